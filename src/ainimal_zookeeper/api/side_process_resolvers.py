"""`sideProcesses`: the `launch_etc` commands and whether they still run (admins only)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from ainimal_zookeeper.api.context import RequestContext


def side_processes(_: Any, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    ctx: RequestContext = info.context
    return ctx.zookeeper.side_processes.list_for(ctx.viewer)
