"""Recording downloads over plain HTTP: GET /recordings/<id>/arrow and /recordings/<id>/minari.zip.

Browsers and `curl` fetch files, not GraphQL; these routes serve the `downloadUrl` and
`minariUrl` of a Recording, under the same viewer rules as the API (the viewer comes from
the GraphQL endpoint, so authentication applies alike: send `Authorization: Bearer <token>`,
never a token in the URL). The file is built in a spooled temporary file off the event loop,
then streamed.

Building one reads and re-encodes a whole recording (a Minari export converts every step), so
at most `EXPORTS_AT_ONCE` are built at once (others get 503 with Retry-After), and a build
counts as one of the client's running requests (`GraphQLEndpoint.request_caps`: 429 past them).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO, cast

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ainimal_zookeeper.api.errors import request_error
from ainimal_zookeeper.api.http_common import limit_response, unauthenticated_response
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.errors import LimitReached, NotFound, Unauthenticated, ZookeeperError

if TYPE_CHECKING:
    from ainimal_zookeeper.api.http import GraphQLEndpoint

_STATUS = {"NOT_FOUND": 404, "FORBIDDEN": 403, "UNAUTHENTICATED": 401, "CONFLICT": 409, "BAD_USER_INPUT": 400}
#: Files up to this size stay in memory while they are built.
_SPOOL_BYTES = 16 << 20


#: Downloads built at once, across all clients.
EXPORTS_AT_ONCE = 4


class RecordingDownloads:
    """Serves a recording as Arrow IPC or as a zipped Minari dataset."""

    def __init__(self, endpoint: GraphQLEndpoint, exports_at_once: int = EXPORTS_AT_ONCE) -> None:
        self.endpoint = endpoint
        self.exports_at_once = exports_at_once
        self._exports = threading.BoundedSemaphore(exports_at_once)

    async def handle(self, request: Request) -> Response:
        recording_id = request.path_params["recording_id"]
        kind = request.path_params["kind"]
        try:
            viewer = await self.endpoint.authenticate(request)
            release = self.endpoint.request_caps.open_for(request, viewer)
            if not self._exports.acquire(blocking=False):
                release()
                message = f"{self.exports_at_once} downloads are being prepared; try again in a moment"
                return JSONResponse(
                    request_error(message, "SERVER_BUSY"), status_code=503, headers={"Retry-After": "1"}
                )
            spooled = cast(BinaryIO, tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES))  # closed by _chunks
            try:
                filename, media_type = await run_in_threadpool(
                    self._write, viewer, recording_id, kind, request.query_params.get("dataset"), spooled
                )
            except BaseException:
                spooled.close()
                raise
            finally:
                self._exports.release()
                release()
        except Unauthenticated as exc:
            return unauthenticated_response(str(exc))
        except LimitReached as exc:
            return limit_response(exc)
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
