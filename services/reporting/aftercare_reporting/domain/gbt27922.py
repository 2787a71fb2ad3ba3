"""The catalogue of the after-sales service evaluation (S: CTS DNISC1105-2026 after
GB/T 27922): every indicator with its clause, group and points (annex A and B), service
requirements 60 points (B1–B24 goods service, C1–C8 customer relations and complaints),
management requirements 40 (A1–A18). Pure data, checked against the annex's totals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Part = Literal["service", "management"]


@dataclass(frozen=True)
class Indicator:
    code: str
    clause: str
    group: str
    """The second-level indicator of annex A (商品信息, 维修, 投诉处理, …)."""
    title: str
    points: float
    part: Part


def _items(part: Part, group: str, rows: list[tuple[str, str, float, str]]) -> list[Indicator]:
    return [
        Indicator(code, clause, group, title, points, part) for code, clause, points, title in rows
    ]


CATALOGUE: tuple[Indicator, ...] = (
    *_items("service", "商品信息", [
        ("B1", "5.2.1.1", 1, "包装上完整、准确的企业和商品信息"),
        ("B2", "5.2.1.2", 2, "附属文档明确技术数据、使用及保养要求"),
        ("B3", "5.2.1.3", 1, "明示保修期限、维修收费、主要部件和易损配件"),
        ("B4", "5.2.1.4", 1, "安全提示与安全使用年限"),
        ("B5", "5.2.1.5", 1, "系统性缺陷信息公开机制"),
    ]),
    *_items("service", "技术支持", [
        ("B6", "5.2.2.1", 1.5, "及时、必要的安装和调试服务"),
        ("B7", "5.2.2.2", 1.5, "使用指导或顾客培训，解答疑问"),
        ("B8", "5.2.2.3", 1.5, "有效期内持续的技术支持与保养"),
        ("B9", "5.2.2.4", 1.5, "收费合理并事先明示"),
    ]),
    *_items("service", "配送", [
        ("B10", "5.2.3.1", 1, "包装完整、安全，便于运输"),
        ("B11", "5.2.3.2", 3, "送货范围和时间及时兑现"),
    ]),
    *_items("service", "维修", [
        ("B12", "5.2.4.1", 1, "专人负责报修登记和接待"),
        ("B13", "5.2.4.2", 1, "按法律法规提供包修和保修服务"),
        ("B14", "5.2.4.3", 3, "规范、及时维修并如实提供维修记录"),
        ("B15", "5.2.4.4", 1, "定期检查维修设施、设备和器材"),
        ("B16", "5.2.4.5", 3, "维修材料和配件的质量与及时供应"),
        ("B17", "5.2.4.6", 1, "维修期长或延误时提供代用品"),
    ]),
    *_items("service", "质量保证", [
        ("B18", "5.2.5.1", 1, "商品质量符合法规和质量标准"),
        ("B19", "5.2.5.2", 1, "质保期和保修期符合国家规定"),
        ("B20", "5.2.5.3", 2, "质量问题商品按规定退换，收费事先明示"),
        ("B21", "5.2.5.4", 1, "缺陷或难以解决的问题实施召回或补救"),
        ("B22", "5.2.5.5", 2, "贸易型企业配合厂家服务，执行先行赔付"),
    ]),
    *_items("service", "废弃商品回收", [
        ("B23", "5.2.6.1", 1, "明示废弃商品回收注意事项"),
        ("B24", "5.2.6.2", 1, "按规定回收和处置废弃商品"),
    ]),
    *_items("service", "顾客关系", [
        ("C1", "5.3.1.1", 3, "预约、咨询、报修、投诉等反馈渠道与服务热线"),
        ("C2", "5.3.1.2", 2, "网站售后服务页面与在线服务"),
        ("C3", "5.3.1.3", 2, "顾客档案与计算机化服务管理系统，跟踪回访，隐私保密"),
        ("C4", "5.3.1.4", 5, "定期进行顾客满意度调查"),
        ("C5", "5.3.1.5", 3, "定期提供主动服务或回馈活动"),
    ]),
    *_items("service", "投诉处理", [
        ("C6", "5.3.2.1", 2, "专职部门记录投诉，完整的投诉档案"),
        ("C7", "5.3.2.2", 7, "及时反馈和处理投诉，有效解决"),
        ("C8", "5.3.2.3", 1, "服务调解人员，突发事件处理与失误补救"),
    ]),
    *_items("management", "组织架构", [
        ("A1", "5.1.1.1", 1, "专门的售后服务部门，合理的职能和岗位"),
        ("A2", "5.1.1.2", 3, "服务网点覆盖销售区域并有效管理"),
    ]),
    *_items("management", "人员配置", [
        ("A3", "5.1.2.1", 1, "有相应资质的技术和业务人员"),
        ("A4", "5.1.2.2", 5, "按管理人员总数 10% 配置售后服务管理师"),
    ]),
    *_items("management", "资源配置", [
        ("A5", "5.1.3.1", 2, "充足经费与专项经费"),
        ("A6", "5.1.3.2", 2, "内部保障：培训、服务文化、激励"),
        ("A7", "5.1.3.3", 2, "基础设施：场所、设施、工具和备品备件"),
    ]),
    *_items("management", "规范要求", [
        ("A8", "5.1.4.1", 4, "完整的售后服务手册"),
        ("A9", "5.1.4.2", 2, "识别法律法规要求并使员工了解"),
    ]),
    *_items("management", "监督", [
        ("A10", "5.1.5.1", 1, "服务监督机构与专职人员"),
        ("A11", "5.1.5.2", 6, "有效奖惩，修正服务目标，内外部监督评价"),
    ]),
    *_items("management", "改进", [
        ("A12", "5.1.6.1", 2, "生产、销售、服务间的信息反馈与持续改进"),
        ("A13", "5.1.6.2", 1, "难题的研究部门或委托专业机构"),
        ("A14", "5.1.6.3", 1, "通过国家认可的品牌、安全或管理认证"),
        ("A15", "5.1.6.4", 1, "重视服务标准化，参与标准制定"),
    ]),
    *_items("management", "服务文化", [
        ("A16", "5.1.7.1", 1, "明确的服务理念"),
        ("A17", "5.1.7.2", 2, "服务承诺准确一致并有效传递"),
        ("A18", "5.1.7.3", 3, "服务文化和活动的宣传，顾客认知和口碑"),
    ]),
)  # fmt: skip
INDICATORS = {indicator.code: indicator for indicator in CATALOGUE}
PART_POINTS = {"service": 60.0, "management": 40.0}

BANDS: tuple[tuple[float, float, str], ...] = (
    (0, 20, "水平很差，没有或极少数据"),
    (20, 40, "少数方面有改进，处于初期水平"),
    (40, 60, "多数方面有改进或良好水平"),
    (60, 80, "大多数方面良好，部分优秀"),
    (80, 100, "大多数重要方面优良，趋势领先"),
)
"""The maturity bands of annex C: an indicator earns its points × the band's share."""


def band_of(percent: float) -> str:
    """The annex C band a share lies in, as ``"60–80 %"`` (the upper band includes 100)."""
    for low, high, _ in BANDS:
        if percent < high or high == 100:
            return f"{low:g}–{high:g} %"
    raise ValueError(percent)
