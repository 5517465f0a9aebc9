"""A real RTSP server for the IP camera tests: GStreamer's gst-rtsp-server (Debian: gir1.2-gst-rtsp-server-1.0),
serving a folder of JPEG frames (frame000.jpg, frame001.jpg, ...) in a loop as RTP/JPEG, on 127.0.0.1 only.

Run with the system Python, which has PyGObject (python3-gi); it imports nothing of the project:
    /usr/bin/python3 tests/support/rtsp_server.py PORT FRAMES_DIR [--fps N] [--user U --password P]
It prints "ready" on stdout once it listens, and serves until killed. Mount point: /door.
"""

from __future__ import annotations

import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402 - after require_version, as PyGObject needs

MOUNT = "/door"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("frames")
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--size", default="640x480", help="the frames' WIDTHxHEIGHT (rtpjpegpay needs it)")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    width, height = args.size.split("x")
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f'( multifilesrc location="{args.frames}/frame%03d.jpg" loop=true '
        f'caps="image/jpeg,width={width},height={height},framerate={args.fps}/1" ! rtpjpegpay name=pay0 pt=26 )'
    )
    factory.set_shared(True)
    if args.user:  # Basic authentication: the camera URL then carries rtsp://user:password@...
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", args.user)
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password), token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role(args.user, "media.factory.access", True)
        permissions.add_permission_for_role(args.user, "media.factory.construct", True)
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory(MOUNT, factory)
    if server.attach(None) == 0:
        print(f"rtsp_server: cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1
    print("ready", flush=True)
    GLib.MainLoop().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
