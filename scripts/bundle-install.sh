#!/usr/bin/env bash
# install.sh of the offline bundle (made by scripts/bundle.sh): installs QR Checkpoint from this folder alone,
# with no network. As root on a Debian 12 PC:
#   ./install.sh                               Debian packages, the project in /opt/qr-checkpoint, `kiosk` and
#                                              `kiosk-server` in /usr/local/bin
#   ./install.sh --service --enroll 'QR TEXT'  and enrol this kiosk with the enrolment QR's text, then install
#                                              the boot service and start the station (docs/deploy.md);
#                                              `--enroll -` asks for it: scan the QR with a USB scanner
# Options: --prefix DIR (default /opt/qr-checkpoint)  --bin-dir DIR (default /usr/local/bin; "" for none)
#          --no-apt (the Debian packages are installed already)  --user NAME (the station's account: kiosk)
#          --ca-file FILE (the server's CA, for --enroll: copied to PREFIX/server-ca.pem, so the USB stick it
#          came on can go)
# Installing a newer bundle over an older one keeps the station's configuration and events: they live in the
# station account's home, never under PREFIX, which is replaced.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix=/opt/qr-checkpoint bin_dir=/usr/local/bin apt=1 service=0 enroll="" ca_file="" user=kiosk
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    --bin-dir) bin_dir=$2; shift 2 ;;
    --no-apt) apt=0; shift ;;
    --service) service=1; shift ;;
    --enroll) enroll=$2; shift 2 ;;
    --ca-file) ca_file=$(realpath "$2"); shift 2 ;;
    --user) user=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set /s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ -n "$enroll" ] && [ "$service" = 0 ]; then
  echo "install.sh: --enroll enrols the station's account: give --service too" >&2; exit 2
fi

if [ "$enroll" = "-" ]; then
  printf 'Scan the enrolment QR now (or type its code), then Enter: ' >&2
  read -r enroll
fi

if [ "$apt" = 1 ]; then
  mapfile -t packages < <(sed 's/#.*//' "$here/debian-packages.txt" | tr -s ' \t' '\n' | grep -v '^$')
  echo "install: Debian packages from this PC's apt sources (the Debian media: apt-cdrom add)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}"
fi
(cd "$here" && sha256sum --quiet --strict -c SHA256SUMS)

# Only this bundle's wheels: no index, and no pip configuration or PIP_* variable of this machine.
while read -r variable; do unset "$variable"; done < <(env | sed -n 's/^\(PIP_[A-Z_]*\)=.*/\1/p')
export PIP_CONFIG_FILE=/dev/null
pip_install() { "$prefix/venv/bin/python" -m pip install -q --no-index --find-links "$here/wheels" "$@"; }

echo "install: the project and its Python packages in $prefix"
mkdir -p "$prefix"
rm -rf "$prefix/project.new"
cp -a "$here/project" "$prefix/project.new"
rm -rf "$prefix/project" "$prefix/venv"
mv "$prefix/project.new" "$prefix/project"
"${PYTHON:-python3}" -m venv "$prefix/venv"
pip_install --require-hashes -r "$here/requirements.lock"
# From project/ (editable), not from the project's wheel: the station's translations, sounds and icons live in
# project/assets, outside the Python packages, so the wheel (kept in wheels/ for servers) has none of them.
pip_install --no-deps -e "$prefix/project"
if [ -n "$bin_dir" ]; then
  mkdir -p "$bin_dir"
  ln -sf "$prefix/venv/bin/kiosk" "$bin_dir/kiosk"
  ln -sf "$prefix/venv/bin/kiosk-server" "$bin_dir/kiosk-server"
fi
"$prefix/venv/bin/kiosk" --help >/dev/null

if [ "$service" = 1 ]; then
  "$prefix/venv/bin/kiosk" install-service --user "$user"
  if [ -n "$enroll" ]; then
    if [ -n "$ca_file" ]; then
      install -m 0644 "$ca_file" "$prefix/server-ca.pem"
      ca_file=$prefix/server-ca.pem
    fi
    home=$(getent passwd "$user" | cut -d: -f6)
    runuser -u "$user" -- env -u XDG_CONFIG_HOME -u XDG_DATA_HOME HOME="$home" \
      "$prefix/venv/bin/kiosk" enroll --code "$enroll" ${ca_file:+--ca-file "$ca_file"}
  fi
  systemctl restart qr-checkpoint-station.service
  echo "install: the station is running on this PC's screen and starts at every boot"
fi
echo "install: done ($("$prefix/venv/bin/python" -I -c 'from importlib.metadata import version; print(version("qr-checkpoint"))'))"
