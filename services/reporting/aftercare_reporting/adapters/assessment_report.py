"""One version of a self-assessment as a report people read (Chinese or English): the
result and level, each part, every indicator with its band and share, what did not
apply, the special deductions and bonus, who assessed and when."""

from __future__ import annotations

from typing import Any

from aftercare_reporting.adapters.report_files import TEMPLATES
from aftercare_reporting.domain.gbt27922 import INDICATORS

WORDS = {
    "zh-CN": {
        "title": "售后服务评价自评报告",
        "assessed_on": "评价日期",
        "assessors": "评价人员",
        "version": "版本",
        "entered_by": "录入",
        "result": "评价结果",
        "total": "总评分",
        "level": "级别",
        "scaled": "删减换算后得分",
        "achieved": "实际得分",
        "applicable": "涉及项总分值",
        "service": "服务要求",
        "management": "管理要求",
        "code": "指标",
        "group": "二级指标",
        "item": "检查内容",
        "points": "分值",
        "share": "成熟度",
        "earned": "得分",
        "not_applicable": "不适用",
        "deductions": "特别扣分项",
        "bonus": "特别加分项",
        "none": "无",
    },
    "en": {
        "title": "After-sales service self-assessment",
        "assessed_on": "Assessed on",
        "assessors": "Assessors",
        "version": "version",
        "entered_by": "entered by",
        "result": "Result",
        "total": "Score",
        "level": "Level",
        "scaled": "Scaled score",
        "achieved": "Points achieved",
        "applicable": "Applicable points",
        "service": "Service requirements",
        "management": "Management requirements",
        "code": "Indicator",
        "group": "Group",
        "item": "Requirement",
        "points": "Points",
        "share": "Maturity",
        "earned": "Earned",
        "not_applicable": "not applicable",
        "deductions": "Special deductions",
        "bonus": "Special bonus",
        "none": "none",
    },
}


def assessment_html(record: dict[str, Any], language: str = "zh-CN") -> str:
    words = WORDS.get(language, WORDS["zh-CN"])
    items = [
        {**item, "indicator": INDICATORS[item["code"]]}
        for item in record["score"]["items"]
        if item["code"] in INDICATORS
    ]
    return TEMPLATES.get_template("assessment.html.j2").render(
        language=language if language in WORDS else "zh-CN",
        words=words,
        record=record,
        score=record["score"],
        items=items,
    )
