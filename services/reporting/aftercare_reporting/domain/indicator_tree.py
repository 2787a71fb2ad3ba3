"""Q's indicator tree (T/GXDSL 244—2025 §六): four first-level dimensions with their
weights, their second-level dimensions and indicators with Q's targets. Indicators
the event log can compute name the KPI (docs/kpis.md); the others (service network,
staff, training, spare-part stock, innovation) are entered by an operator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from aftercare_reporting.domain.results import Comparison

Dimension = Literal["resources", "process", "results", "improvement"]
DIMENSIONS: tuple[Dimension, ...] = ("resources", "process", "results", "improvement")
DIMENSION_NAMES = {
    "resources": "服务资源保障",
    "process": "服务过程执行",
    "results": "服务结果表现",
    "improvement": "服务持续改进",
}
WEIGHT_RANGES: Mapping[Dimension, tuple[float, float]] = {
    "resources": (20, 25),
    "process": (30, 35),
    "results": (35, 40),
    "improvement": (10, 15),
}
"""Q's suggested weights (%); an organisation may adjust them (Q: 可适当调整)."""
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "resources": 20,
    "process": 32,
    "results": 38,
    "improvement": 10,
}


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    dimension: Dimension
    group: str
    """The second-level dimension (服务网络建设, 响应及时性, …)."""
    target: float
    comparison: Comparison
    unit: str
    entered: bool
    """True: an operator enters the value; False: computed from the events (``id`` is
    the KPI's)."""


Row = tuple[str, str, float, Comparison, str]
"""(id, name, target, comparison, unit): ``Q-…`` entered by an operator, ``M-…`` a KPI."""


def _group(dimension: Dimension, group: str, rows: list[Row]) -> list[Indicator]:
    return [
        Indicator(id_, name, dimension, group, target, cmp, unit, id_.startswith("Q-"))
        for id_, name, target, cmp, unit in rows
    ]


TREE: tuple[Indicator, ...] = (
    *_group("resources", "服务网络建设", [
        ("Q-NETWORK-DENSITY", "服务网点密度（每万平方公里）", 15, "at_least", "sites"),
    ]),
    *_group("resources", "服务设施配置", [
        ("Q-VEHICLES", "专用服务车辆配备率", 30, "at_least", "%"),
        ("Q-SYSTEM-COVERAGE", "信息化服务系统覆盖率", 100, "at_least", "%"),
    ]),
    *_group("resources", "服务人员配备", [
        ("Q-CUSTOMERS-PER-ENGINEER", "每名服务人员服务顾客数", 200, "at_most", "customers"),
        ("Q-CERTIFIED", "持证上岗率", 100, "at_least", "%"),
        ("Q-TECHNICAL-STAFF", "专业技术人员占比", 40, "at_least", "%"),
        ("Q-TRAINING-HOURS", "年度人均培训时长", 40, "at_least", "h"),
    ]),
    *_group("resources", "备件供应保障", [
        ("Q-SPARES-STOCK", "常用备件库存满足率", 95, "at_least", "%"),
        ("M-SPARES", "备件供应及时率", 100, "at_least", "%"),
    ]),
    *_group("process", "服务可及性", [
        ("Q-HOTLINE-ANSWERED", "服务热线接通率", 95, "at_least", "%"),
        ("M-ONLINE-30MIN", "在线服务 30 分钟内响应率", 90, "at_least", "%"),
    ]),
    *_group("process", "响应及时性", [
        ("M-ONSITE-PUNCTUAL", "现场服务准时到达率", 95, "at_least", "%"),
    ]),
    *_group("process", "过程规范性", [
        ("Q-PROCESS-CONFORMANCE", "服务流程执行符合率", 95, "at_least", "%"),
    ]),
    *_group("process", "沟通有效性", [
        ("M-PROGRESS", "服务进度主动告知率", 90, "at_least", "%"),
    ]),
    *_group("results", "问题解决效果", [
        ("M-FCR", "首次解决率", 85, "at_least", "%"),
        ("M-REPEAT", "重复维修率", 5, "at_most", "%"),
        ("M-RESOLVED", "问题彻底解决率", 95, "at_least", "%"),
        ("Q-PERFORMANCE-RESTORED", "服务后产品性能恢复度", 98, "at_least", "%"),
    ]),
    *_group("results", "顾客满意度", [("M-CSAT", "综合满意度", 85, "at_least", "0–100")]),
    *_group("results", "服务经济性", [("M-EXTRA-FEE", "额外费用发生率", 5, "at_most", "%")]),
    *_group("results", "服务安全性", [
        ("Q-SAFETY-INCIDENTS", "服务安全事故数", 0, "at_most", "incidents"),
    ]),
    *_group("improvement", "顾客反馈管理", [
        ("M-CHANNELS", "投诉渠道数量", 3, "at_least", "channels"),
        ("M-COMPLAINT-24H", "投诉 24 小时响应率", 100, "at_least", "%"),
        ("M-COMPLAINT-SAT", "投诉处理满意率", 85, "at_least", "%"),
    ]),
    *_group("improvement", "服务过程监控", [
        ("Q-MONITORING-COVERAGE", "关键服务环节监控覆盖率", 90, "at_least", "%"),
        ("Q-QUALITY-CHECKS", "年度服务质量全面检查次数", 12, "at_least", "checks"),
    ]),
    *_group("improvement", "服务创新实施", [
        ("Q-INNOVATION-PROJECTS", "年度服务创新项目数", 2, "at_least", "projects"),
    ]),
)  # fmt: skip
TREE_BY_ID = {indicator.id: indicator for indicator in TREE}
ENTERED = frozenset(i.id for i in TREE if i.entered)


def weight_problems(weights: Mapping[str, float]) -> list[tuple[str, str]]:
    """Every reason a set of dimension weights cannot be used, as (field, message)."""
    found = [(f"weights.{k}", f"{k} is not a dimension") for k in weights if k not in DIMENSIONS]
    found += [(f"weights.{d}", f"{d} has no weight") for d in DIMENSIONS if d not in weights]
    found += [(f"weights.{k}", "a weight is not negative") for k, v in weights.items() if v < 0]
    if not found and abs(sum(weights.values()) - 100) > 1e-6:
        found.append(("weights", f"the weights add up to {sum(weights.values()):g}, not 100"))
    return found
