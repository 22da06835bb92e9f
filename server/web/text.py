"""Every word the web console shows, in one catalogue, so it can be translated.

Templates call ``_("key")``; a key missing here is an error at render time, never a blank.
"""

from __future__ import annotations

from typing import Mapping

ZH_CN: Mapping[str, str] = {
    "app.name": "巡查督办平台",
    "login.title": "登录",
    "login.username": "用户名",
    "login.password": "密码",
    "login.submit": "登录",
    "login.failed": "用户名或密码错误。",
    "login.throttled": "登录失败次数过多，请 {seconds} 秒后再试。",
    "login.demo_password": "该演示账号的密码已公开，生产环境不可使用；请管理员重设密码。",
    "login.expired": "登录已过期，请重新登录。",
    "logout.submit": "退出",
    "logout.done": "已退出登录。",
    "nav.home": "首页",
    "nav.orders": "本单位整改单",
    "nav.queue": "问题台账",
    "nav.map": "地图",
    "nav.dashboard": "统计",
    "nav.inspector": "我的检查",
    "home.welcome": "欢迎，{name}",
    "home.role": "角色：{role}",
    "role.admin": "管理员",
    "role.supervisor": "督查人员",
    "role.inspector": "检查人员",
    "role.liaison": "单位联络员",
    "status.triage": "待分派",
    "status.issued": "整改中",
    "status.responded": "待复查",
    "status.closed": "已销号",
    "status.parked": "挂账",
    "status.voided": "已作废",
    "level.1": "整改通知",
    "level.2": "督办单",
    "level.3": "通报问责",
    "orders.title": "本单位待办整改单",
    "orders.none": "暂无待办整改单。",
    "orders.history": "已办结",
    "col.category": "问题类别",
    "col.description": "问题描述",
    "col.due": "整改期限",
    "col.status": "状态",
    "col.level": "等级",
    "col.issued": "下发时间",
    "col.location": "位置",
    "overdue": "已逾期",
    "error.title": "出错了",
    "error.404": "没有找到该页面或记录。",
    "error.403": "无权进行此操作。",
    "error.csrf": "表单已失效，请刷新页面后重试。",
    "error.other": "请求未能完成：{detail}",
    "error.back": "返回首页",
}


def text(key: str, **values: object) -> str:
    """The catalogue's text for ``key``, with ``{name}`` placeholders filled in."""
    message = ZH_CN[key]
    return message.format(**values) if values else message
