"""Frequent Vietnamese syllables and generic business words, folded.

A supplier alias made only of these (`Sen`, `Hoàng Gia`, `Nhà hàng`) says little on its own:
`hoa sen` is a flower and `nhà hàng` is any restaurant. They are still matched inside a
longer name, but a fuzzy (typo-tolerant) match never rests on them, and a rule keyword that
folds to one of them only matches words written with its diacritics.
"""

from __future__ import annotations

COMMON_SYLLABLES: frozenset[str] = frozenset(
    """
    a ai an anh ao ba bac ban bang bao bay be ben bi biet bo bon bu bua bun buoi ca cac cai
    cam can cao cap cau chay chi chiec chieu cho choi chu chua chung co con cong cu cua cuoc
    cung da dai dan dang danh dao dap dat day de den deu di dia dich dien dieu dinh do doi don
    dong du dua dung duoc duong em gan gap gi gia giao gio giua gui ha hai ham han hang hanh hay
    he hen het hieu hoa hoan hoc hoi hom hon hong hop hu huong it kem ket khac khach khi khong
    kia kim la lai lam lan lanh lau le len lien lo loai loi lon luc luon ly ma mai man mat may
    me mo moi mon mot mua muon nam nao nay ne neu ngay nghi ngon ngoai nguoi nhan nhanh nhat nhe
    nhieu nhin nho nhu nhung noi nong nua o oi ong phai phan phi phong phu qua quan rat ra roi
    rong sa sach sai san sang sao sau se sen so sua tai tam tan tat tay te tham than thanh thay
    the thi thiet thoi thu thuc tien tiep tim tinh to toi ton tot tra tran tren tri trong truoc
    tu tuan tuoi tuy uong van ve vi viec vien vo voi vu vui xa xe xem xin xong
    bach bai banh bat benh bich binh boi bong buon buong cach canh chan chang chao chat chet
    chieu chinh chon chuan chuc chuong chuyen cuoi cuon dac dam danh dau den dep diem dong
    duoi gach gai ghe ghi giai giam gian giay gioi giong giu hanh hien hinh hoat hoang hoi
    hung huong khach khai kham khang khanh khi khiep khoa khoang khoe khong khu khung kien
    kinh lang lanh lich linh loan long luong luat mang manh mau mien minh muc muoi nang ngan
    nganh ngat nghe nghiep ngoc ngu nguon nhac nhanh nhap nhiem nhom nhung nuoc phat phep
    phien phong phuc phuong quang quay que quoc quyen sang sinh son song suat suc suong tang
    thach thai thang thanh thao thap thay them thich thien thieu thoai thoi thong thuat thuong
    tien tieng tieu tinh toan trach trai trang trinh truong trung tuong tuyen uong vang vien
    vien vinh vong vuong xanh xuan xuat xuong yen
    nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly dinh truong lam
    thuy thu trang linh lan mai hoa ngoc minh tuan hung dung hai nam long quang khoa khanh
    phuong thao huyen hang nga oanh tam tien vy yen hieu duc thang trung kien hanh chau
    """.split()
)

GENERIC_BUSINESS_WORDS: frozenset[str] = frozenset(
    """
    nha hang quan khach san resort hotel homestay spa salon shop store cua tiem cong ty tnhh
    jsc ltd trung tam vien tham my buffet cafe coffee ca phe restaurant beauty clinic phong
    kham khoa gym fitness yoga studio official mall mart sieu thi tour travel du lich
    """.split()
)
