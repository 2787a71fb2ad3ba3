"""The console's words in English and Simplified Chinese. The language is the one chosen
(``?lang=``, kept in a cookie), else the browser's first acceptable one, else Chinese,
the desk's own. A word without a translation falls back to English, then to the key
made readable, so a new command or field never shows as a blank."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request

LANGUAGES = ("zh-CN", "en")
LANG_COOKIE = "aftercare_lang"

_EN: Mapping[str, str] = {
    "app": "Aftercare console",
    "queue": "Queue",
    "sign_in": "Sign in",
    "sign_out": "Sign out",
    "api_key": "API key",
    "signed_in_as": "Signed in as",
    "bad_key": "That API key is not known.",
    "session_over": "Your session has ended: sign in again.",
    "next_deadline": "Next deadline",
    "ticket": "Ticket",
    "subject": "Subject",
    "state": "State",
    "kind": "Kind",
    "priority": "Priority",
    "assignee": "Assignee",
    "channel": "Channel",
    "urgent": "Urgent",
    "clocks": "SLA clocks",
    "breached_only": "Breached only",
    "filter": "Filter",
    "any": "any",
    "open_tickets": "open tickets with a running clock",
    "without_clock": "open tickets have no running clock",
    "previous": "Previous",
    "next": "Next",
    "no_tickets": "Nothing in the queue.",
    "sla_unavailable": "The SLA watcher cannot be reached: clocks are not shown.",
    "breached": "breached",
    "warned": "warned",
    "running": "running",
    "paused": "paused",
    "met": "met",
    "missed": "missed",
    "cancelled": "cancelled",
    "late": "late",
    "left": "left",
    "customer": "Customer",
    "contact": "Contact",
    "contact_hidden": "Contact details are not shown to your role (P-PII).",
    "product": "Product",
    "description": "Description",
    "plan": "Plan",
    "expected_resolution_at": "Expected resolution",
    "timeline": "Timeline",
    "actions": "Actions",
    "no_actions": "Your role cannot change this ticket.",
    "as_of": "As of",
    "show": "Show",
    "now": "now",
    "as_of_note": "The ticket as it was recorded at",
    "refused": "Refused",
    "done": "Done",
    "deadline": "Deadline",
    "status": "Status",
    "reason": "Reason",
    "by": "by",
    "not_found": "No such ticket.",
    "forbidden": "Your role may not do that.",
    "bad_form": "The form was not sent from this console: reload the page and try again.",
    "version": "Version",
    "customer_ref": "Customer ref",
    "region": "Region",
    "requested_at": "Requested",
    "no_clocks": "No SLA clock for this ticket yet.",
    "open_alerts": "open alerts",
}

_ZH: Mapping[str, str] = {
    "app": "售后服务控制台",
    "queue": "工单队列",
    "sign_in": "登录",
    "sign_out": "退出",
    "api_key": "API 密钥",
    "signed_in_as": "当前用户",
    "bad_key": "无效的 API 密钥。",
    "session_over": "会话已结束，请重新登录。",
    "next_deadline": "最近时限",
    "ticket": "工单",
    "subject": "主题",
    "state": "状态",
    "kind": "类型",
    "priority": "优先级",
    "assignee": "处理人",
    "channel": "渠道",
    "urgent": "紧急",
    "clocks": "服务时限",
    "breached_only": "仅看超时",
    "filter": "筛选",
    "any": "全部",
    "open_tickets": "个计时中的未结工单",
    "without_clock": "个未结工单没有计时中的时限",
    "previous": "上一页",
    "next": "下一页",
    "no_tickets": "队列为空。",
    "sla_unavailable": "无法连接时限监控服务，暂不显示时限。",
    "breached": "已超时",
    "warned": "即将超时",
    "running": "计时中",
    "paused": "已暂停",
    "met": "已达成",
    "missed": "未达成",
    "cancelled": "已取消",
    "late": "已超时",
    "left": "剩余",
    "customer": "客户",
    "contact": "联系方式",
    "contact_hidden": "您的角色无权查看客户联系方式（P-PII）。",
    "product": "产品",
    "description": "问题描述",
    "plan": "处理方案",
    "expected_resolution_at": "预计解决时间",
    "timeline": "处理记录",
    "actions": "操作",
    "no_actions": "您的角色不能修改此工单。",
    "as_of": "查看时间点",
    "show": "查看",
    "now": "当前",
    "as_of_note": "工单在此时间点的记录",
    "refused": "未通过",
    "done": "已完成",
    "deadline": "时限",
    "status": "状态",
    "reason": "原因",
    "by": "操作人",
    "not_found": "工单不存在。",
    "forbidden": "您的角色无权执行此操作。",
    "bad_form": "表单不是从本控制台提交的，请刷新页面后重试。",
    "version": "版本",
    "customer_ref": "客户编号",
    "region": "地区",
    "requested_at": "受理时间",
    "no_clocks": "此工单暂无服务时限。",
    "open_alerts": "个未处理告警",
    # states
    "state.raised": "已受理",
    "state.acknowledged": "已响应",
    "state.diagnosed": "已诊断",
    "state.resolved": "已解决",
    "state.closed": "已关闭",
    "state.waiting_on_customer": "等待客户",
    "state.waiting_on_parts": "等待备件",
    "state.withdrawn": "已撤回",
    "state.declined": "已拒绝",
    # kinds
    "kind.support": "技术支持",
    "kind.repair": "维修",
    "kind.return": "退货",
    "kind.exchange": "换货",
    "kind.refund": "退款",
    "kind.complaint": "投诉",
    "kind.spare_parts": "备件",
    "kind.training": "培训",
    "kind.emergency": "紧急故障",
    "priority.urgent": "紧急",
    "priority.high": "高",
    "priority.normal": "普通",
    "priority.low": "低",
    # commands
    "command.acknowledge": "响应并制定方案",
    "command.diagnose": "诊断",
    "command.provide_workaround": "提供临时方案",
    "command.resolve": "解决",
    "command.revisit": "回访",
    "command.reopen": "重新打开",
    "command.close": "关闭",
    "command.withdraw": "撤回",
    "command.decline": "拒绝",
    "command.request_info": "请客户补充信息",
    "command.provide_info": "客户补充信息",
    "command.await_parts": "等待备件",
    "command.parts_arrived": "备件到货",
    "command.escalate": "升级",
    "command.assign": "分派",
    "command.report_progress": "进度通报",
    "command.schedule_visit": "预约上门",
    "command.receive_product": "收到产品",
    "command.approve_refund": "批准退款",
    "command.give_return_instructions": "提供退货地址",
    "command.answer_quote": "答复报价",
    "command.return_product": "寄回产品",
    "command.revise_plan": "修改方案",
}

TEXTS: Mapping[str, Mapping[str, str]] = {"en": _EN, "zh-CN": _ZH}


def language_of(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(",")[:10]:
        tag = part.split(";", 1)[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return "zh-CN"


class Words:
    """``words("queue")`` in the page's language; ``words("state", "raised")`` for a
    value of the vocabulary."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._texts = TEXTS.get(language, _EN)

    def __call__(self, key: str, value: str | None = None) -> str:
        if value is not None:
            key = f"{key}.{value}"
        found = self._texts.get(key) or _EN.get(key)
        if found:
            return found
        last = key.rsplit(".", 1)[-1]
        return last.replace("_", " ").capitalize()
