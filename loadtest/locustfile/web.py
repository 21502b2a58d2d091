"""The web UI's Isolation tab: the board's violations beside Locust's own statistics.

Locust 2.x's extended tabs: the tab's table is declared in the page's template arguments and
filled from ``/stats/requests`` (which the UI polls every 2 s), to which the rows are added:
each violation with its state (``violated`` or ``allowed``), then one row per property the
target profile cannot check (``IsolationBoard.shown``). The board is also served as JSON at
``/isolation`` (with every property's status) and as CSV at ``/isolation/csv``.
"""

from __future__ import annotations

import csv
import io

import orjson
from flask import Response
from flask import request as flask_request
from locust.env import Environment

from loadtest.isolation_board import COLUMNS, IsolationBoard

TAB = "isolation"
TAB_ROWS = 200            # rows the Isolation tab shows


def extend_web_ui(environment: Environment, board: IsolationBoard) -> None:
    """Add the Isolation tab and its routes to ``environment``'s web UI, showing ``board``."""
    web_ui = environment.web_ui
    assert web_ui is not None and web_ui.app is not None
    app = web_ui.app
    web_ui.template_args["extended_tabs"] = [{"title": "Isolation", "key": TAB}]
    web_ui.template_args["extended_tables"] = [
        {"key": TAB, "structure": [{"key": key, "title": title} for key, title in COLUMNS]}]
    web_ui.template_args["extended_csv_files"] = [
        {"href": "./isolation/csv", "title": "Download isolation violations CSV"}]

    @app.after_request
    def _add_isolation_rows(response: Response) -> Response:
        if not flask_request.path.endswith("/stats/requests") or response.status_code != 200:
            return response
        payload = orjson.loads(response.get_data())
        payload["extended_stats"] = [{"key": TAB, "data": board.shown(TAB_ROWS)}]
        response.set_data(orjson.dumps(payload))
        return response

    @app.route("/isolation")
    def _isolation_json() -> Response:
        return Response(orjson.dumps(board.snapshot()), mimetype="application/json")

    @app.route("/isolation/csv")
    def _isolation_csv() -> Response:
        out = io.StringIO()
        writer = csv.writer(out)
        keys = [key for key, _ in COLUMNS]
        writer.writerow(keys)
        writer.writerows([row.get(key, "") for key in keys] for row in board.rows)
        return Response(out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=isolation.csv"})


__all__ = ["TAB", "TAB_ROWS", "extend_web_ui"]
