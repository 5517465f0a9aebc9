<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="vi">
<context>
    <name>AssistedForm</name>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="88" />
        <source>Name and ID number are required</source>
        <translation>Cần nhập họ tên và số giấy tờ</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="92" />
        <source>Check the ID number: 12 digits (CCCD), 9 digits (CMND) or a passport (a letter and 7 digits)</source>
        <translation>Kiểm tra số giấy tờ: 12 chữ số (CCCD), 9 chữ số (CMND) hoặc hộ chiếu (1 chữ cái và 7 chữ số)</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="113" />
        <source>Full name</source>
        <translation>Họ và tên</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="113" />
        <source>Phone</source>
        <translation>Điện thoại</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="113" />
        <source>ID number</source>
        <translation>Số CCCD / giấy tờ</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="116" />
        <source>Continue</source>
        <translation>Tiếp tục</translation>
    </message>
</context>
<context>
    <name>CheckoutBar</name>
    <message>
        <location filename="../../ui/pages/checkout_bar.py" line="96" />
        <source>Check out %1?</source>
        <translation>Cho %1 ra về?</translation>
    </message>
    <message>
        <location filename="../../ui/pages/checkout_bar.py" line="97" />
        <source>%1 checked out</source>
        <translation>Đã cho %1 ra về</translation>
    </message>
    <message>
        <location filename="../../ui/pages/checkout_bar.py" line="98" />
        <source>Check-out of %1 undone: inside again</source>
        <translation>Đã hoàn tác: %1 vẫn đang ở trong</translation>
    </message>
    <message>
        <location filename="../../ui/pages/checkout_bar.py" line="101" />
        <source>Yes, check out</source>
        <translation>Đồng ý cho ra</translation>
    </message>
    <message>
        <location filename="../../ui/pages/checkout_bar.py" line="102" />
        <source>Cancel</source>
        <translation>Hủy</translation>
    </message>
    <message>
        <location filename="../../ui/pages/checkout_bar.py" line="103" />
        <source>Undo</source>
        <translation>Hoàn tác</translation>
    </message>
</context>
<context>
    <name>GuardPanel</name>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="249" />
        <source>inside</source>
        <translation>đang ở trong</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="249" />
        <source>left</source>
        <translation>đã ra</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="295" />
        <source>Today: %1 entries, %2 exits. Inside now: %3</source>
        <translation>Hôm nay: %1 lượt vào, %2 lượt ra. Đang ở trong: %3</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="307" />
        <source>Guard panel</source>
        <translation>Bảng bảo vệ</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="308" />
        <source>Back</source>
        <translation>Quay lại</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="309" />
        <source>Daily health update</source>
        <translation>Khai báo y tế hằng ngày</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="310" />
        <location filename="../../ui/pages/guard_panel.py" line="312" />
        <source>Check out the selected person</source>
        <translation>Cho người đã chọn ra về</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="311" />
        <source>Roll-call (PDF)</source>
        <translation>Danh sách (PDF)</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="313" />
        <source>Name or last digits of the ID</source>
        <translation>Tên hoặc các số cuối của giấy tờ</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="314" />
        <source>Inside now</source>
        <translation>Đang ở trong</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="315" />
        <source>Search</source>
        <translation>Tìm kiếm</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="316" />
        <source>Assisted entry</source>
        <translation>Nhập hộ</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="317" />
        <source>Name</source>
        <translation>Họ tên</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="317" />
        <source>ID</source>
        <translation>Số giấy tờ</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="317" />
        <source>Time</source>
        <translation>Giờ</translation>
    </message>
    <message>
        <location filename="../../ui/pages/guard_panel.py" line="317" />
        <source>Status</source>
        <translation>Trạng thái</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../ui/main_window.py" line="137" />
        <location filename="../../ui/main_window.py" line="138" />
        <source>QR Checkpoint</source>
        <translation>Trạm quét QR</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="139" />
        <source>Guard</source>
        <translation>Bảo vệ</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="142" />
        <source>Settings</source>
        <translation>Cài đặt</translation>
    </message>
</context>
<context>
    <name>PinPage</name>
    <message>
        <location filename="../../ui/pages/pin.py" line="136" />
        <source>Wrong PIN</source>
        <translation>Sai mã PIN</translation>
    </message>
    <message>
        <location filename="../../ui/pages/pin.py" line="150" />
        <source>Too many wrong PINs. Try again in %1 s</source>
        <translation>Sai mã PIN quá nhiều lần. Thử lại sau %1 giây</translation>
    </message>
    <message>
        <location filename="../../ui/pages/pin.py" line="163" />
        <source>Enter the PIN to close the station</source>
        <translation>Nhập mã PIN để tắt trạm</translation>
    </message>
    <message>
        <location filename="../../ui/pages/pin.py" line="163" />
        <source>Enter the staff PIN</source>
        <translation>Nhập mã PIN nhân viên</translation>
    </message>
    <message>
        <location filename="../../ui/pages/pin.py" line="165" />
        <source>Clear</source>
        <translation>Xóa</translation>
    </message>
    <message>
        <location filename="../../ui/pages/pin.py" line="166" />
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <location filename="../../ui/pages/pin.py" line="167" />
        <source>Cancel</source>
        <translation>Hủy</translation>
    </message>
</context>
<context>
    <name>Questionnaire</name>
    <message>
        <location filename="../../ui/pages/questionnaire.py" line="34" />
        <source>Fever</source>
        <translation>Sốt</translation>
    </message>
    <message>
        <location filename="../../ui/pages/questionnaire.py" line="35" />
        <source>Cough</source>
        <translation>Ho</translation>
    </message>
    <message>
        <location filename="../../ui/pages/questionnaire.py" line="36" />
        <source>Shortness of breath</source>
        <translation>Khó thở</translation>
    </message>
    <message>
        <location filename="../../ui/pages/questionnaire.py" line="37" />
        <source>Sore throat</source>
        <translation>Đau họng</translation>
    </message>
    <message>
        <location filename="../../ui/pages/questionnaire.py" line="38" />
        <source>Loss of taste or smell</source>
        <translation>Mất vị giác hoặc khứu giác</translation>
    </message>
    <message>
        <location filename="../../ui/pages/questionnaire.py" line="39" />
        <source>Contact with a confirmed or suspected case</source>
        <translation>Tiếp xúc với ca bệnh hoặc nghi nhiễm</translation>
    </message>
    <message>
        <location filename="../../ui/pages/questionnaire.py" line="40" />
        <source>Travel from an area with an outbreak</source>
        <translation>Đi về từ vùng có dịch</translation>
    </message>
</context>
<context>
    <name>QuestionnairePage</name>
    <message>
        <location filename="../../ui/pages/questionnaire.py" line="173" />
        <source>Next visitor waiting: %1 (no need to scan again)</source>
        <translation>Người tiếp theo đang chờ: %1 (không cần quét lại)</translation>
    </message>
    <message>
        <location filename="../../ui/pages/questionnaire.py" line="213" />
        <source>Health declaration</source>
        <translation>Khai báo y tế</translation>
    </message>
    <message>
        <location filename="../../ui/pages/questionnaire.py" line="214" />
        <source>In the last 14 days, have you had any of the following?</source>
        <translation>Trong 14 ngày qua, bạn có dấu hiệu nào sau đây không?</translation>
    </message>
    <message>
        <location filename="../../ui/pages/questionnaire.py" line="217" />
        <source>Yes</source>
        <translation>Có</translation>
    </message>
    <message>
        <location filename="../../ui/pages/questionnaire.py" line="218" />
        <source>No</source>
        <translation>Không</translation>
    </message>
    <message>
        <location filename="../../ui/pages/questionnaire.py" line="219" />
        <source>Body temperature (°C)</source>
        <translation>Nhiệt độ cơ thể (°C)</translation>
    </message>
    <message>
        <location filename="../../ui/pages/questionnaire.py" line="220" />
        <source>Confirm</source>
        <translation>Xác nhận</translation>
    </message>
    <message>
        <location filename="../../ui/pages/questionnaire.py" line="221" />
        <source>Cancel</source>
        <translation>Hủy</translation>
    </message>
</context>
<context>
    <name>Result</name>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="32" />
        <source>ENTRY</source>
        <translation>VÀO</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="33" />
        <source>EXIT</source>
        <translation>RA</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="34" />
        <source>RECORDED</source>
        <translation>ĐÃ GHI NHẬN</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="35" />
        <source>SEE THE STAFF</source>
        <translation>GẶP NHÂN VIÊN</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="36" />
        <source>NOT ACCEPTED</source>
        <translation>KHÔNG HỢP LỆ</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="37" />
        <source>VENUE FULL</source>
        <translation>ĐÃ ĐỦ NGƯỜI</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="45" />
        <source>You were already recorded a moment ago</source>
        <translation>Bạn vừa được ghi nhận</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="46" />
        <source>The venue is full. Please wait outside</source>
        <translation>Đã đủ người. Vui lòng chờ bên ngoài</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="47" />
        <source>This code cannot be read. Please show your personal QR code</source>
        <translation>Không đọc được mã. Vui lòng đưa mã QR cá nhân</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="60" />
        <source>This code cannot be verified. Please see the staff</source>
        <translation>Không xác minh được mã. Vui lòng gặp nhân viên</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="50" />
        <location filename="../../ui/widgets/presenter.py" line="53" />
        <source>This is not a personal QR code. Please show your CCCD or personal QR</source>
        <translation>Đây không phải mã QR cá nhân. Vui lòng đưa CCCD hoặc mã QR cá nhân</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="56" />
        <source>This kind of code is not accepted here. Please show another one, or see the staff</source>
        <translation>Nơi này không nhận loại mã này. Vui lòng đưa mã khác hoặc gặp nhân viên</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="59" />
        <source>This code is not genuine. Please see the staff</source>
        <translation>Mã này không hợp lệ. Vui lòng gặp nhân viên</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="61" />
        <source>This code has expired. Please show a new one, or see the staff</source>
        <translation>Mã này đã hết hạn. Vui lòng đưa mã mới hoặc gặp nhân viên</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="64" />
        <source>This code has been cancelled. Please see the staff</source>
        <translation>Mã này đã bị thu hồi. Vui lòng gặp nhân viên</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="65" />
        <source>This certificate is not valid here. Please see the staff</source>
        <translation>Chứng nhận này không dùng được ở đây. Vui lòng gặp nhân viên</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="66" />
        <source>A vaccination certificate is required here. Please show it, or see the staff</source>
        <translation>Nơi này yêu cầu chứng nhận tiêm chủng. Vui lòng đưa chứng nhận hoặc gặp nhân viên</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="69" />
        <source>Health declaration reports symptoms. Please see the staff</source>
        <translation>Khai báo có triệu chứng. Vui lòng gặp nhân viên</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="70" />
        <source>Please make a health declaration first</source>
        <translation>Vui lòng khai báo y tế trước</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="71" />
        <source>Could not save. Please see the staff</source>
        <translation>Không lưu được. Vui lòng gặp nhân viên</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="72" />
        <location filename="../../ui/widgets/presenter.py" line="77" />
        <source>Please see the staff</source>
        <translation>Vui lòng gặp nhân viên</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="73" />
        <source>Declaration not completed. Please see the staff</source>
        <translation>Chưa khai báo xong. Vui lòng gặp nhân viên</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="87" />
        <source>Entry recorded, but your health declaration reports symptoms. Please wait for the staff</source>
        <translation>Đã ghi nhận vào, nhưng tờ khai y tế có triệu chứng. Vui lòng chờ nhân viên</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="91" />
        <source>Entry recorded, but the ID number does not match the card. Please show your ID to the staff</source>
        <translation>Đã ghi nhận vào, nhưng số định danh không khớp với thẻ. Vui lòng đưa giấy tờ cho nhân viên</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="94" />
        <source>Entry recorded, but the code has unusual text. Please show your ID to the staff</source>
        <translation>Đã ghi nhận vào, nhưng mã có ký tự lạ. Vui lòng đưa giấy tờ cho nhân viên</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="144" />
        <source>Welcome</source>
        <translation>Xin mời vào</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="145" />
        <source>Goodbye, see you again</source>
        <translation>Tạm biệt, hẹn gặp lại</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/presenter.py" line="151" />
        <source>Already recorded at %1</source>
        <translation>Đã ghi nhận lúc %1</translation>
    </message>
</context>
<context>
    <name>ResultPanel</name>
    <message>
        <location filename="../../ui/widgets/result_panel.py" line="115" />
        <source>Green</source>
        <translation>Xanh</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/result_panel.py" line="116" />
        <source>Yellow</source>
        <translation>Vàng</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/result_panel.py" line="117" />
        <source>Orange</source>
        <translation>Cam</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/result_panel.py" line="118" />
        <source>Red</source>
        <translation>Đỏ</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/result_panel.py" line="122" />
        <source>COVID safety level: %1</source>
        <translation>Mức an toàn COVID: %1</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/result_panel.py" line="128" />
        <source>assessed %1</source>
        <translation>đánh giá %1</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/result_panel.py" line="150" />
        <source>Camera not working</source>
        <translation>Camera không hoạt động</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/result_panel.py" line="151" />
        <source>Please see the staff</source>
        <translation>Vui lòng gặp nhân viên</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/result_panel.py" line="156" />
        <source>Show your personal QR code to the camera</source>
        <translation>Đưa mã QR cá nhân vào trước camera</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/result_panel.py" line="158" />
        <source>Hold still: the code is blurred</source>
        <translation>Giữ yên: mã đang bị mờ</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/result_panel.py" line="160" />
        <source>Hold the code about 20 cm from the camera</source>
        <translation>Giữ mã cách camera 20 cm</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/result_panel.py" line="163" />
        <source>Citizen ID (CCCD), PC-Covid or personal QR</source>
        <translation>Mã QR trên CCCD, PC-Covid hoặc QR cá nhân</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/result_panel.py" line="194" />
        <source>Inside: %1</source>
        <translation>Đang ở trong: %1</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <location filename="../../ui/pages/settings.py" line="311" />
        <source>The PIN must be at least 4 digits</source>
        <translation>Mã PIN phải có ít nhất 4 chữ số</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="329" />
        <source>Station settings</source>
        <translation>Cài đặt trạm</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="330" />
        <source>Test camera</source>
        <translation>Thử camera</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="331" />
        <source>Enrol</source>
        <translation>Đăng ký</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="166" />
        <source>Camera</source>
        <translation>Camera</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="39" />
        <source>Citizen ID card (CCCD)</source>
        <translation>Thẻ căn cước công dân (CCCD)</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="40" />
        <source>PC-Covid app</source>
        <translation>Ứng dụng PC-Covid</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="41" />
        <source>Personal QR (this system)</source>
        <translation>Mã QR cá nhân (hệ thống này)</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="42" />
        <source>Vaccination certificate (EU DCC)</source>
        <translation>Chứng nhận tiêm chủng (EU DCC)</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="172" />
        <source>Test view</source>
        <translation>Hình thử</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="173" />
        <source>Station mode</source>
        <translation>Chế độ trạm</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="174" />
        <source>Capacity (0: no limit)</source>
        <translation>Sức chứa (0: không giới hạn)</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="176" />
        <source>Repeat scan ignored for (seconds)</source>
        <translation>Bỏ qua quét lặp lại trong (giây)</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="182" />
        <source>Accepted codes</source>
        <translation>Loại mã được chấp nhận</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="188" />
        <source>Health declaration</source>
        <translation>Khai báo y tế</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="191" />
        <source>Symptoms declared</source>
        <translation>Khi khai báo có triệu chứng</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="196" />
        <source>Language</source>
        <translation>Ngôn ngữ</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="197" />
        <source>Venue name</source>
        <translation>Tên địa điểm</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="198" />
        <source>Server address</source>
        <translation>Địa chỉ máy chủ</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="201" />
        <source>Kiosk mode (locked full screen)</source>
        <translation>Chế độ kiosk (khóa toàn màn hình)</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="363" />
        <source>Refuse the entry</source>
        <translation>Không cho vào</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="364" />
        <source>Admit and alert the staff</source>
        <translation>Cho vào và báo nhân viên</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="199" />
        <source>Enrolment code</source>
        <translation>Mã đăng ký máy</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="218" />
        <source>New PIN (leave empty to keep)</source>
        <translation>Mã PIN mới (để trống nếu giữ nguyên)</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="207" />
        <source>Full names in the guard panel (roll-call)</source>
        <translation>Họ tên đầy đủ trong bảng bảo vệ (điểm danh)</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="213" />
        <source>On-screen keyboard (no physical keyboard; after a restart)</source>
        <translation>Bàn phím ảo (máy không có bàn phím; sau khi khởi động lại)</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="219" />
        <source>New PIN again</source>
        <translation>Nhập lại mã PIN mới</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="291" />
        <source>Demo (built-in test pictures)</source>
        <translation>Chạy thử (ảnh mẫu có sẵn)</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="295" />
        <source>Camera 0 (none detected now)</source>
        <translation>Camera 0 (hiện không tìm thấy)</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="314" />
        <source>The two PINs are not the same: type the new PIN twice</source>
        <translation>Hai mã PIN không giống nhau: hãy nhập mã PIN mới hai lần</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="347" />
        <source>Entry and exit (automatic)</source>
        <translation>Vào và ra (tự động)</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="348" />
        <source>Entry only</source>
        <translation>Chỉ vào</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="349" />
        <source>Exit only</source>
        <translation>Chỉ ra</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="355" />
        <source>Never</source>
        <translation>Không bao giờ</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="356" />
        <source>Assisted entries only</source>
        <translation>Chỉ khi nhân viên nhập hộ</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="357" />
        <source>Every entry</source>
        <translation>Mọi lượt vào</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="336" />
        <source>On</source>
        <translation>Bật</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="339" />
        <source>Save</source>
        <translation>Lưu</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="340" />
        <source>Close</source>
        <translation>Đóng</translation>
    </message>
    <message>
        <location filename="../../ui/pages/settings.py" line="341" />
        <source>Exit the station</source>
        <translation>Tắt trạm</translation>
    </message>
</context>
<context>
    <name>Station</name>
    <message>
        <location filename="../../ui/station/configuration.py" line="119" />
        <source>Saved</source>
        <translation>Đã lưu</translation>
    </message>
    <message>
        <location filename="../../ui/station/configuration.py" line="135" />
        <source>Enrolling…</source>
        <translation>Đang đăng ký…</translation>
    </message>
    <message>
        <location filename="../../ui/station/configuration.py" line="159" />
        <source>Enrolled as kiosk %1</source>
        <translation>Đã đăng ký, mã máy %1</translation>
    </message>
    <message>
        <location filename="../../ui/station/status.py" line="55" />
        <location filename="../../ui/station/status.py" line="56" />
        <source>Camera disconnected. Reconnecting…</source>
        <translation>Mất kết nối camera. Đang kết nối lại…</translation>
    </message>
    <message>
        <location filename="../../ui/station/status.py" line="57" />
        <source>Video ended</source>
        <translation>Hết video</translation>
    </message>
    <message>
        <location filename="../../ui/station/status.py" line="59" />
        <source>Camera cannot be opened</source>
        <translation>Không mở được camera</translation>
    </message>
    <message>
        <location filename="../../ui/station/scan_enrolment.py" line="41" />
        <source>ENROLLING THIS KIOSK</source>
        <translation>ĐANG ĐĂNG KÝ MÁY</translation>
    </message>
    <message>
        <location filename="../../ui/station/scan_enrolment.py" line="42" />
        <source>Please wait: this kiosk is being registered with its server</source>
        <translation>Vui lòng chờ: máy đang được đăng ký với máy chủ</translation>
    </message>
    <message>
        <location filename="../../ui/station/scan_enrolment.py" line="53" />
        <source>KIOSK ENROLLED</source>
        <translation>ĐÃ ĐĂNG KÝ MÁY</translation>
    </message>
    <message>
        <location filename="../../ui/station/scan_enrolment.py" line="54" />
        <source>This kiosk is now kiosk %1 of its venue</source>
        <translation>Máy này là máy số %1 của địa điểm</translation>
    </message>
    <message>
        <location filename="../../ui/station/scan_enrolment.py" line="59" />
        <source>ENROLMENT FAILED</source>
        <translation>ĐĂNG KÝ THẤT BẠI</translation>
    </message>
    <message>
        <location filename="../../ui/station/rollcall.py" line="38" />
        <source>Roll-call: inside now</source>
        <translation>Danh sách người đang ở bên trong</translation>
    </message>
    <message>
        <location filename="../../ui/station/rollcall.py" line="47" />
        <source>Roll-call not saved: %1</source>
        <translation>Chưa lưu được danh sách: %1</translation>
    </message>
    <message>
        <location filename="../../ui/station/rollcall.py" line="52" />
        <source>Roll-call saved: %1</source>
        <translation>Đã lưu danh sách: %1</translation>
    </message>
    <message>
        <location filename="../../ui/station/rollcall.py" line="54" />
        <source>printed on %1</source>
        <translation>đã in ra máy %1</translation>
    </message>
</context>
<context>
    <name>StationStatusBar</name>
    <message>
        <location filename="../../ui/widgets/status_bar.py" line="64" />
        <source>Camera: OK</source>
        <translation>Camera: tốt</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/status_bar.py" line="65" />
        <source>Camera: LOST</source>
        <translation>Camera: MẤT KẾT NỐI</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/status_bar.py" line="66" />
        <source>Camera: reconnecting…</source>
        <translation>Camera: đang kết nối lại…</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/status_bar.py" line="67" />
        <source>Camera: video ended</source>
        <translation>Camera: hết video</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/status_bar.py" line="69" />
        <source>Camera: cannot open</source>
        <translation>Camera: không mở được</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/status_bar.py" line="78" />
        <source>Sync: starting…</source>
        <translation>Đồng bộ: đang khởi động…</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/status_bar.py" line="86" />
        <source>Online, %1 pending, last sync %2</source>
        <translation>Trực tuyến, %1 chờ gửi, đồng bộ lúc %2</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/status_bar.py" line="89" />
        <source>Offline, %1 pending</source>
        <translation>Ngoại tuyến, %1 chờ gửi</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/status_bar.py" line="92" />
        <source>Keys: %1, trust list: %2</source>
        <translation>Khóa: %1, danh sách tin cậy: %2</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/status_bar.py" line="97" />
        <source>Trust list out of date</source>
        <translation>Danh sách tin cậy đã cũ</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/status_bar.py" line="99" />
        <source>Clock looks wrong</source>
        <translation>Đồng hồ máy có vẻ sai</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/status_bar.py" line="101" />
        <source>Server refused this kiosk: enrol again (scans are kept here)</source>
        <translation>Máy chủ từ chối máy này: hãy đăng ký lại (lượt quét vẫn được lưu)</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/status_bar.py" line="104" />
        <source>%1 records refused by the server</source>
        <translation>%1 bản ghi bị máy chủ từ chối</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/status_bar.py" line="106" />
        <source>No staff PIN set</source>
        <translation>Chưa đặt mã PIN</translation>
    </message>
</context>
<context>
    <name>Status</name>
    <message>
        <location filename="../../ui/widgets/status_bar.py" line="21" />
        <source>never</source>
        <translation>chưa có</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/status_bar.py" line="23" />
        <source>%1 min</source>
        <translation>%1 phút</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/status_bar.py" line="25" />
        <source>%1 h</source>
        <translation>%1 giờ</translation>
    </message>
    <message>
        <location filename="../../ui/widgets/status_bar.py" line="26" />
        <source>%1 days</source>
        <translation>%1 ngày</translation>
    </message>
</context>
</TS>