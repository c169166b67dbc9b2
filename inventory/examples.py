"""The example organisation that `make run` loads into an empty database.

Every unit it creates is marked `is_example`, and an import of the real organisation replaces it
(see transfer.import_units). Names, headcounts and facts are invented, shaped like a real city: agencies
under the city's People's Committee, and wards and communes with their own staff, meeting rooms, sites and
archives to digitise."""
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.models import Unit, UnitKind
from inventory.units import NewUnit, create_unit

# The deadlines by which the archives must be digitised, before the units merge.
JUNE_2027, DECEMBER_2027 = dt.date(2027, 6, 30), dt.date(2027, 12, 31)

# The city is the tree's root: its staff and sites are its agencies' and wards'.
CITY = NewUnit("VD", "Thành phố Ví Dụ (ví dụ)", UnitKind.CITY, 0, sites=0)
AGENCIES = [
    NewUnit("VD-VP", "Văn phòng UBND thành phố", UnitKind.AGENCY, 85, leader_count=5, specialist_count=62,
            meeting_rooms=3, sites=1, archive_pages=120_000, archive_deadline=DECEMBER_2027, on_secure_network=True),
    NewUnit("VD-STC", "Sở Tài chính", UnitKind.AGENCY, 120, leader_count=6, specialist_count=90, meeting_rooms=4,
            sites=3, archive_pages=250_000, archive_deadline=DECEMBER_2027, on_secure_network=True),
    NewUnit("VD-SNV", "Sở Nội vụ", UnitKind.AGENCY, 95, leader_count=5, specialist_count=70, meeting_rooms=3,
            sites=2, archive_pages=180_000, archive_deadline=JUNE_2027, on_secure_network=True),
    NewUnit("VD-STP", "Sở Tư pháp", UnitKind.AGENCY, 70, leader_count=4, specialist_count=52, meeting_rooms=2,
            sites=1, archive_pages=90_000, on_secure_network=True),  # its deadline is not set yet
    NewUnit("VD-SKHCN", "Sở Khoa học và Công nghệ", UnitKind.AGENCY, 110, leader_count=5, specialist_count=84,
            meeting_rooms=3, sites=2, archive_pages=60_000, archive_deadline=DECEMBER_2027),
]
# Departments work from their agency's buildings: no sites of their own.
DEPARTMENTS = {
    "VD-STC": [NewUnit("VD-STC-NS", "Phòng Quản lý ngân sách", UnitKind.DEPARTMENT, 30, leader_count=3,
                       specialist_count=25, meeting_rooms=1, sites=0, on_secure_network=True),
               NewUnit("VD-STC-TCDN", "Phòng Tài chính doanh nghiệp", UnitKind.DEPARTMENT, 25, leader_count=2,
                       specialist_count=21, sites=0, on_secure_network=True)],
    "VD-SKHCN": [NewUnit("VD-SKHCN-CDS", "Trung tâm Chuyển đổi số", UnitKind.DEPARTMENT, 40, leader_count=3,
                         specialist_count=34, meeting_rooms=1, sites=0)],
}
WARDS = [
    NewUnit("VD-P01", "Phường Hoà Bình", UnitKind.WARD, 28, leader_count=3, specialist_count=18, meeting_rooms=1,
            sites=1, archive_pages=45_000, archive_deadline=JUNE_2027, on_secure_network=True),
    NewUnit("VD-P02", "Phường Tân Lập", UnitKind.WARD, 31, leader_count=3, specialist_count=20, meeting_rooms=1,
            sites=2, archive_pages=52_000, archive_deadline=JUNE_2027, on_secure_network=True),
    NewUnit("VD-P03", "Phường Quang Trung", UnitKind.WARD, 26, leader_count=2, specialist_count=17, meeting_rooms=1,
            sites=1, archive_pages=38_000, archive_deadline=JUNE_2027, on_secure_network=True),
    NewUnit("VD-P04", "Phường Thống Nhất", UnitKind.WARD, 33, leader_count=3, specialist_count=22, meeting_rooms=2,
            sites=1, archive_pages=60_000, archive_deadline=JUNE_2027, on_secure_network=True),
    NewUnit("VD-X01", "Xã An Phú", UnitKind.COMMUNE, 22, leader_count=2, specialist_count=14, meeting_rooms=1,
            sites=1, archive_pages=30_000, archive_deadline=JUNE_2027, on_secure_network=True),
    NewUnit("VD-X02", "Xã Bình Minh", UnitKind.COMMUNE, 19, leader_count=2, specialist_count=12, meeting_rooms=1,
            sites=1, archive_pages=25_000, on_secure_network=True),  # its deadline is not set yet
]


def load_example_organisation(session: Session) -> int:
    """Create the example units in an empty database; return how many (0 if units already exist)."""
    if session.scalars(select(Unit.id).limit(1)).first() is not None:
        return 0
    create_unit(session, CITY, is_example=True)
    count = 1
    for unit in [*AGENCIES, *WARDS]:
        create_unit(session, unit, parent_code=CITY.code, is_example=True)
        count += 1
    for parent, children in DEPARTMENTS.items():
        for unit in children:
            create_unit(session, unit, parent_code=parent, is_example=True)
            count += 1
    return count
