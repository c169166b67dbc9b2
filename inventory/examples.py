"""The example organisation that `make run` loads into an empty database.

Every unit it creates is marked `is_example`, and an import of the real organisation replaces it
(see transfer.import_units). Names and headcounts are invented, shaped like a real city: agencies
under the city's People's Committee, and wards and communes with their own staff."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.models import Unit, UnitKind
from inventory.units import NewUnit, create_unit

CITY = NewUnit("VD", "Thành phố Ví Dụ (ví dụ)", UnitKind.CITY, 0)
AGENCIES = [
    NewUnit("VD-VP", "Văn phòng UBND thành phố", UnitKind.AGENCY, 85),
    NewUnit("VD-STC", "Sở Tài chính", UnitKind.AGENCY, 120),
    NewUnit("VD-SNV", "Sở Nội vụ", UnitKind.AGENCY, 95),
    NewUnit("VD-STP", "Sở Tư pháp", UnitKind.AGENCY, 70),
    NewUnit("VD-SKHCN", "Sở Khoa học và Công nghệ", UnitKind.AGENCY, 110),
]
DEPARTMENTS = {
    "VD-STC": [NewUnit("VD-STC-NS", "Phòng Quản lý ngân sách", UnitKind.DEPARTMENT, 30),
               NewUnit("VD-STC-TCDN", "Phòng Tài chính doanh nghiệp", UnitKind.DEPARTMENT, 25)],
    "VD-SKHCN": [NewUnit("VD-SKHCN-CDS", "Trung tâm Chuyển đổi số", UnitKind.DEPARTMENT, 40)],
}
WARDS = [
    NewUnit("VD-P01", "Phường Hoà Bình", UnitKind.WARD, 28),
    NewUnit("VD-P02", "Phường Tân Lập", UnitKind.WARD, 31),
    NewUnit("VD-P03", "Phường Quang Trung", UnitKind.WARD, 26),
    NewUnit("VD-P04", "Phường Thống Nhất", UnitKind.WARD, 33),
    NewUnit("VD-X01", "Xã An Phú", UnitKind.COMMUNE, 22),
    NewUnit("VD-X02", "Xã Bình Minh", UnitKind.COMMUNE, 19),
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
