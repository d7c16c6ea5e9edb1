"""A synthetic catalog of N suppliers with Vietnamese names, for benchmarks."""

from __future__ import annotations

import random

from router import SupplierEntry

KINDS = ["Nhà hàng", "Spa", "Khách sạn", "Buffet", "Cửa hàng", "Salon", "Quán", "Tiệm bánh",
         "Trung tâm", "Điện máy", "Resort", "Nha khoa", "Cafe", "Karaoke", "Shop"]
WORDS = ["Hoàng", "Gia", "Minh", "Phát", "Thành", "Đạt", "Hương", "Thảo", "Sen", "Tây", "Hồ",
         "Biển", "Xanh", "Mây", "Trắng", "Ngọc", "Trai", "Sông", "Hàn", "Phố", "Cổ", "Bình", "An",
         "Phúc", "Lộc", "Thọ", "Kim", "Long", "Phượng", "Hồng", "Lan", "Mai", "Cúc", "Trúc",
         "Đông", "Nam", "Bắc", "Việt", "Sài", "Gòn", "Hà", "Nội", "Huế", "Đà", "Lạt", "Vũng",
         "Tàu", "Nha", "Trang", "Cần", "Thơ", "Hạ", "Quang", "Tâm", "Đức", "Tín", "Nhân", "Hòa"]


def synthetic_suppliers(count: int, seed: int = 7) -> list[SupplierEntry]:
    rng = random.Random(seed)
    entries = []
    for i in range(count):
        core = " ".join(rng.sample(WORDS, 2 + (i % 2)))
        name = f"{rng.choice(KINDS)} {core} {i}"
        alias = core
        entries.append(SupplierEntry(f"B{i:05d}", name, (alias, f"{core} {i}"),
                                     (f"cskh{i}@supplier{i}.vn",), (f"+849{i:08d}",)))
    return entries
