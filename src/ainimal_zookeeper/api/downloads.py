"""Recording downloads over plain HTTP: GET /recordings/<id>/arrow and /recordings/<id>/minari.zip.

Browsers and `curl` fetch files, not GraphQL; these routes serve the `downloadUrl` and
`minariUrl` of a Recording, under the same viewer rules as the API (the viewer comes from
the GraphQL endpoint, so authentication applies alike: send `Authorization: Bearer <token>`,
never a token in the URL). The file is built in a spooled temporary file off the event loop,
then streamed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO, cast

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ainimal_zookeeper.api.errors import request_error
from ainimal_zookeeper.api.http_common import unauthenticated_response
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.errors import NotFound, Unauthenticated, ZookeeperError

if TYPE_CHECKING:
    from ainimal_zookeeper.api.http import GraphQLEndpoint

_STATUS = {"NOT_FOUND": 404, "FORBIDDEN": 403, "UNAUTHENTICATED": 401, "CONFLICT": 409, "BAD_USER_INPUT": 400}
#: Files up to this size stay in memory while they are built.
_SPOOL_BYTES = 16 << 20


class RecordingDownloads:
    """Serves a recording as Arrow IPC or as a zipped Minari dataset."""

    def __init__(self, endpoint: GraphQLEndpoint) -> None:
        self.endpoint = endpoint

    async def handle(self, request: Request) -> Response:
        recording_id = request.path_params["recording_id"]
        kind = request.path_params["kind"]
        try:
            viewer = await self.endpoint.authenticate(request)
            spooled = cast(BinaryIO, tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES))  # closed by _chunks
            try:
                filename, media_type = await run_in_threadpool(
                    self._write, viewer, recording_id, kind, request.query_params.get("dataset"), spooled
                )
            except BaseException:
                spooled.close()
                raise
        except Unauthenticated as exc:
            return unauthenticated_response(str(exc))
        except ZookeeperError as exc:
            return JSONResponse(request_error(str(exc), exc.code), status_code=_STATUS.get(exc.code, 500))
        spooled.seek(0)
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        return StreamingResponse(_chunks(spooled), media_type=media_type, headers=headers)

    def _write(
        self, viewer: Viewer, recording_id: str, kind: str, dataset: str | None, out: BinaryIO
    ) -> tuple[str, str]:
        recordings = self.endpoint.zookeeper.recordings
        if kind == "arrow":
            recordings.write_arrow(viewer, recording_id, out)
            return f"recording-{recording_id}.arrow", "application/vnd.apache.arrow.stream"
        if kind == "minari.zip":
            dataset_id = recordings.export_minari(viewer, recording_id, dataset, out)
            return f"{dataset_id.replace('/', '_')}.zip", "application/zip"
        raise NotFound(f"no download {kind!r}: use /recordings/<id>/arrow or /recordings/<id>/minari.zip")


def _chunks(file: BinaryIO, size: int = 1 << 20) -> Iterator[bytes]:
    try:
        while chunk := file.read(size):
            yield chunk
    finally:
        file.close()
