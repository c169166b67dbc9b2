"""What a dashboard's URL may say (filters kept in the URL, so a view can be bookmarked and shared), and the
table behind a figure as the API returns it."""
import datetime as dt

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate


class DashboardArgs(Schema):
    """A blank field of the filters' form means no filter; other arguments of a page's address (?lang=en) are
    not the dashboards' business."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _blank_is_absent(self, data, **_):
        return {key: value for key, value in data.items() if value != ""}

    unit = fields.String(validate=validate.Length(min=1, max=32),
                         metadata={"description": "The subtree: a unit's code (default: the caller's top unit)."})
    category = fields.String(validate=validate.Length(min=1, max=32),
                             metadata={"description": "A catalog category's code: gaps, lifecycle, age and plans."})
    version = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1),
                             metadata={"description": "A catalog version's id: the plans and category names."})
    year = fields.Integer(validate=validate.Range(min=2000, max=2100),
                          metadata={"description": "A year: the plans' lines and the readiness history."})
    on = fields.Date(validate=validate.Range(min=dt.date(2000, 1, 1), max=dt.date(2100, 12, 31)),
                     metadata={"description": "The day the dashboards stand on (default today): lifecycle quarters "
                                              "and ages from it, days unseen until its end in the city, the history "
                                              "up to it."})
    scenario = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1),
                              metadata={"description": "A saved scenario's id: the plan the budget figures show."})


class ColumnSchema(Schema):
    key = fields.String()
    label = fields.String()
    kind = fields.String(metadata={"description": "text, number, vnd, percent, day or moment"})


class FigureTableSchema(Schema):
    """A figure's table: its columns and rows of plain values (money in whole dong, dates as YYYY-MM-DD)."""
    name = fields.String()
    title = fields.String()
    unit = fields.String(metadata={"description": "The subtree's root."})
    recorded_on = fields.Date(allow_none=True, metadata={"description": "The day gaps and readiness were recorded."})
    columns = fields.List(fields.Nested(ColumnSchema))
    rows = fields.List(fields.Dict())
    hrefs = fields.List(fields.String(allow_none=True),
                        metadata={"description": "Per row, the page its first cell leads to (or null)."})
