#!/usr/bin/env python3
"""A STAND-IN for the RDS Data API's ExecuteStatement, on loopback, over a real MariaDB.

No RDS Data API can run outside AWS, and no emulator of it exists here, so photopipe-aws's
Data API catalog (src/data_api.rs) is tested against this: the same SDK client, HTTP
requests and error parsing as in a Lambda, with this script answering in AWS's place and
running each statement on MariaDB. It is not the Data API, and passing against it shows
that the adapter speaks the protocol as documented, not that AWS answers this way.

What it does (the restJson1 protocol aws-sdk-rdsdata speaks):
  POST /Execute  {resourceArn, secretArn, database, sql, parameters, formatRecordsAs,
                  includeResultMetadata}
    - `:name` parameters become PyMySQL `%(name)s` placeholders (outside quoted text and
      comments), bound with their typed values: longValue, doubleValue, stringValue,
      booleanValue, blobValue (base64), isNull. A stringValue with typeHint DATE, TIME or
      TIMESTAMP must have the Data API's format (YYYY-MM-DD, HH:MM:SS[.fff],
      YYYY-MM-DD HH:MM:SS[.fff]) and is sent as CAST(... AS DATE/TIME/DATETIME), so
      MariaDB receives a temporal value, not text converted under session rules.
      DECIMAL, JSON and UUID hints pass the string as it is.
    - runs the one statement, autocommit, in the request's `database` on
      mysql://root@127.0.0.1:3306 (PHOTOPIPE_STANDIN_MYSQL_* override host, port, user,
      password);
    - answers {numberOfRecordsUpdated, generatedFields: [{longValue: LAST_INSERT_ID}] when
      the statement generated one, and for a statement with rows either formattedRecords
      (formatRecordsAs JSON: a JSON string of an array of objects keyed by column label;
      integers as numbers, other values as text) or records (arrays of Field unions), with
      columnMetadata (name and label only) when includeResultMetadata is true};
    - errors as HTTP 400 with the `x-amzn-ErrorType` header and {"message": ...}: a
      database error (MariaDB's own message, e.g. "Duplicate entry '...' for key '...'")
      as BadRequestException, the code the Data API returned for SQL errors for years;
      POST /standin/database-error {"code": "DatabaseErrorException"} switches to the
      newer Data API's spelling. Malformed requests are BadRequestException too.
  POST /standin/resuming {"count": N}  the next N /Execute calls fail with
      DatabaseResumingException (HTTP 400), as a paused Aurora Serverless v2 answers
      while it scales up from zero.
  GET  /standin/requests  every /Execute request body seen, in order (JSON array).
  POST /standin/reset     forgets the requests, the resuming count and the error code.

What it does NOT emulate: authentication and SigV4 (any signature, any ARNs, no Secrets
Manager: the secret is not read), transactions (BeginTransaction, CommitTransaction,
RollbackTransaction, transactionId), BatchExecuteStatement, ExecuteSql, result metadata
beyond column names (types, precision, nullability), resultSetOptions (decimal and
long return types), continueAfterTimeout, the 1 MB / 64 KB response limits, array
parameters, throttling and statement timeouts, and the exact wording of AWS's messages.

Standard library + PyMySQL only. Usage: data_api_standin.py PORT (binds 127.0.0.1).
"""

import base64
import datetime
import decimal
import json
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pymysql

LOCK = threading.Lock()
STATE = {"requests": [], "resuming": 0, "database_error": "BadRequestException"}

HINT_FORMATS = {
    "DATE": (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "DATE"),
    "TIME": (re.compile(r"^\d{2}:\d{2}:\d{2}(\.\d{1,6})?$"), "TIME"),
    "TIMESTAMP": (
        re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$"),
        "DATETIME",
    ),
}


class ApiError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def field_value(name, value):
    """The Python value of one Data API Field union."""
    if not isinstance(value, dict) or len(value) != 1:
        raise ApiError("BadRequestException", f"parameter {name}: one value field expected")
    (kind, v), = value.items()
    if kind == "isNull":
        return None
    if kind == "longValue":
        return int(v)
    if kind == "doubleValue":
        return float(v)
    if kind == "stringValue":
        return str(v)
    if kind == "booleanValue":
        return bool(v)
    if kind == "blobValue":
        return base64.b64decode(v)
    raise ApiError("BadRequestException", f"parameter {name}: {kind} is not supported here")


def translate(sql, parameters):
    """`:name` → `%(name)s` (casts for temporal hints), `%` → `%%`; the bound values."""
    values, hints = {}, {}
    for p in parameters or []:
        name = p.get("name")
        if not name:
            raise ApiError("BadRequestException", "a parameter without a name")
        values[name] = field_value(name, p.get("value"))
        hint = p.get("typeHint")
        if hint in HINT_FORMATS:
            pattern, _ = HINT_FORMATS[hint]
            if not isinstance(values[name], str) or not pattern.match(values[name]):
                raise ApiError(
                    "BadRequestException",
                    f"parameter {name}: {values[name]!r} is not a valid {hint}",
                )
            hints[name] = HINT_FORMATS[hint][1]
    out, i, n = [], 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"`":  # quoted text: copied as is (a doubled quote stays inside)
            j = i + 1
            while j < n:
                if sql[j] == "\\" and c != "`":
                    j += 2
                    continue
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i : j + 1].replace("%", "%%"))
            i = j + 1
        elif sql.startswith("--", i) or c == "#":
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j].replace("%", "%%"))
            i = j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(sql[i:j].replace("%", "%%"))
            i = j
        elif c == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_") and (
            i == 0 or sql[i - 1] != ":"
        ):
            m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", sql[i + 1 :])
            name = m.group(0)
            if name not in values:
                raise ApiError("BadRequestException", f"No value specified for parameter: {name}")
            placeholder = f"%({name})s"
            if name in hints:
                placeholder = f"CAST({placeholder} AS {hints[name]})"
            out.append(placeholder)
            i += 1 + len(name)
        elif c == "%":
            out.append("%%")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out), values


def json_value(v):
    """A column value in formattedRecords (JSON)."""
    if v is None or isinstance(v, (bool, int, float)):
        return v
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode()
    if isinstance(v, datetime.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S") + (f".{v.microsecond:06d}" if v.microsecond else "")
    if isinstance(v, datetime.timedelta):
        total = int(v.total_seconds())
        sign = "-" if total < 0 else ""
        total = abs(total)
        return f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
    return str(v)


def field(v):
    """A column value in records (a Field union)."""
    if v is None:
        return {"isNull": True}
    if isinstance(v, bool):
        return {"booleanValue": v}
    if isinstance(v, int):
        return {"longValue": v}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, (bytes, bytearray)):
        return {"blobValue": base64.b64encode(bytes(v)).decode()}
    return {"stringValue": json_value(v)}


def connect(database):
    env = os.environ.get
    return pymysql.connect(
        host=env("PHOTOPIPE_STANDIN_MYSQL_HOST", "127.0.0.1"),
        port=int(env("PHOTOPIPE_STANDIN_MYSQL_PORT", "3306")),
        user=env("PHOTOPIPE_STANDIN_MYSQL_USER", "root"),
        password=env("PHOTOPIPE_STANDIN_MYSQL_PASSWORD", ""),
        database=database,
        charset="utf8mb4",
        autocommit=True,
    )


def execute(request):
    for required in ("resourceArn", "secretArn", "sql"):
        if not isinstance(request.get(required), str) or not request[required]:
            raise ApiError("BadRequestException", f"{required} is required")
    sql, values = translate(request["sql"], request.get("parameters"))
    try:
        conn = connect(request.get("database") or None)
    except pymysql.MySQLError as e:
        raise ApiError("BadRequestException", e.args[-1] if e.args else str(e))
    try:
        with conn.cursor() as cur:
            try:
                updated = cur.execute(sql, values)
            except pymysql.MySQLError as e:
                message = e.args[-1] if e.args else str(e)
                raise ApiError(STATE["database_error"], str(message))
            answer = {"numberOfRecordsUpdated": 0 if cur.description else updated}
            answer["generatedFields"] = [{"longValue": cur.lastrowid}] if cur.lastrowid else []
            if cur.description:
                labels = [d[0] for d in cur.description]
                rows = cur.fetchall()
                if request.get("formatRecordsAs") == "JSON":
                    objects = [{k: json_value(v) for k, v in zip(labels, row)} for row in rows]
                    answer["formattedRecords"] = json.dumps(objects, ensure_ascii=False)
                else:
                    answer["records"] = [[field(v) for v in row] for row in rows]
                    if request.get("includeResultMetadata"):
                        answer["columnMetadata"] = [{"name": k, "label": k} for k in labels]
            return answer
    finally:
        conn.close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet unless asked
        if os.environ.get("PHOTOPIPE_STANDIN_VERBOSE"):
            super().log_message(fmt, *args)

    def reply(self, status, body, error_type=None):
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            value = json.loads(raw or b"{}")
        except ValueError as e:
            raise ApiError("BadRequestException", f"malformed JSON: {e}")
        if not isinstance(value, dict):
            raise ApiError("BadRequestException", "a JSON object expected")
        return value

    def do_GET(self):
        if self.path == "/standin/requests":
            with LOCK:
                self.reply(200, list(STATE["requests"]))
        else:
            self.reply(404, {"message": f"no such path {self.path}"}, "UnknownOperationException")

    def do_POST(self):
        try:
            request = self.body()
            if self.path == "/Execute":
                with LOCK:
                    STATE["requests"].append(request)
                    resuming = STATE["resuming"] > 0
                    if resuming:
                        STATE["resuming"] -= 1
                if resuming:
                    raise ApiError(
                        "DatabaseResumingException",
                        "The database is resuming after being auto-paused. Please wait a few "
                        "seconds and try again. (stand-in)",
                    )
                self.reply(200, execute(request))
            elif self.path == "/standin/resuming":
                with LOCK:
                    STATE["resuming"] = int(request.get("count", 1))
                self.reply(200, {"resuming": STATE["resuming"]})
            elif self.path == "/standin/database-error":
                code = request.get("code", "BadRequestException")
                if code not in ("BadRequestException", "DatabaseErrorException"):
                    raise ApiError("BadRequestException", f"unknown code {code}")
                with LOCK:
                    STATE["database_error"] = code
                self.reply(200, {"code": code})
            elif self.path == "/standin/reset":
                with LOCK:
                    STATE.update(requests=[], resuming=0, database_error="BadRequestException")
                self.reply(200, {})
            else:
                raise ApiError("UnknownOperationException", f"the stand-in has no {self.path}")
        except ApiError as e:
            self.reply(400, {"message": e.message}, e.code)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"data_api_standin: http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
