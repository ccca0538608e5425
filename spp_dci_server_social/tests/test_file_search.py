"""Bulk search by file: multipart/form-data (FileInfo + a signed envelope) over real HTTP."""

import base64
import hashlib
import json
import uuid

from odoo.addons.fastapi.pools import fastapi_app_pool
from odoo.addons.spp_dci.dci import spec
from odoo.tests import tagged

from .common import SocialCase

SYNC = "/registry/sync/search"
ASYNC = "/registry/search"
CSV = b"identifier_type,identifier_value\r\nUIN,ZB-UIN-001\r\nUIN,ZB-UIN-002\r\nUIN,ZB-NONE-9\r\n"


def file_digest(content):
    return "SHA-256=" + base64.b64encode(hashlib.sha256(content).digest()).decode()


@tagged("post_install", "-at_install")
class TestFileSearch(SocialCase):
    def set_endpoint(self, **values):
        self.endpoint.write(values)
        self.endpoint.flush_recordset()
        fastapi_app_pool.invalidate(self.env)  # running servers rebuild the app on commit
        self.addCleanup(fastapi_app_pool.invalidate, self.env)

    def file_envelope(self, content, file_format="csv", rows=3, info=None, header=None, **message):
        file_info = {
            "action": "search",
            "fileName": f"ids.{file_format}",
            "fileFormat": file_format,
            "fileSize": len(content),
            "fileDigest": file_digest(content),
            **(info or {}),
        }
        body = {"transaction_id": str(uuid.uuid4()), "file_info": file_info, **message}
        return self.envelope(
            "search",
            body,
            header=header,
            total_count=rows,
            sender_uri=self.receiver.url("/mis/registry/on-search"),
        )

    def upload(
        self,
        path,
        envelope,
        content,
        file_format="csv",
        content_type=None,
        token=None,
        fields=None,
    ):
        """POST the form with requests' own multipart encoder, as any HTTP client would."""
        content_type = content_type or ("text/csv" if file_format == "csv" else "application/json")
        form = {"action": "search", "fileFormat": file_format, **(fields or {})}
        form = {k: v for k, v in form.items() if v is not None}
        files = {
            "envelope": (None, json.dumps(envelope), "application/json"),
            "fileName": (f"ids.{file_format}", content, content_type),
        }
        token = self.token() if token is None else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.opener.post(
            self.base_url() + self.url(path), data=form, files=files, headers=headers, timeout=60
        )

    def accepted(self, envelope, content, **kwargs):
        response = self.upload(ASYNC, envelope, content, **kwargs)
        body = self.assertSpecResponse(ASYNC, response)
        self.assertEqual(response.status_code, 200, body)
        self.assertEqual(body["message"]["ack_status"], "ACK", body)
        self.assertHttpSigned(response)
        return body["message"]["correlation_id"]

    def callback(self):
        self.run_jobs()
        [callback] = self.receiver.requests
        self.assertEqual(callback["path"], "/mis/registry/on-search")
        data = callback["json"]
        spec.validate_request("social", "/registry/on-search", data)
        self.assertSignedByUs(data)
        return data

    def assertNothingWritten(self):
        """A refused file wrote no accepted transaction and queued no job."""
        accepted = self.env["spp.dci.transaction"].search(
            [("sender_id", "=", self.sender.id), ("state", "!=", "rejected")]
        )
        self.assertFalse(accepted)
        self.assertFalse(self.pending_jobs())

    # --- answered like any search ----------------------------------------------------------

    def test_csv_file_async(self):
        envelope = self.file_envelope(CSV)
        form = {"action": "search", "fileFormat": "csv", "fileName": "ids.csv"}
        form["envelope"] = json.dumps(envelope)
        spec.validate_request("social", ASYNC, form, "multipart/form-data")  # FileInfo + ours
        correlation_id = self.accepted(envelope, CSV)
        self.assertEqual(self.receiver.requests, [], "nothing is sent before the job runs")
        txn = self.env["spp.dci.transaction"].search([("correlation_id", "=", correlation_id)])
        self.assertEqual((txn.mode, txn.state, txn.item_count), ("async", "received", 3))
        self.assertEqual(txn.reference_ids, ["row-1", "row-2", "row-3"])
        data = self.callback()
        self.assertEqual(data["message"]["correlation_id"], correlation_id)
        self.assertEqual(data["message"]["transaction_id"], envelope["message"]["transaction_id"])
        self.assertEqual(data["header"]["total_count"], 3)
        results = {item["reference_id"]: item for item in data["message"]["search_response"]}
        self.assertEqual(set(results), {"row-1", "row-2", "row-3"})
        self.assertEqual(self.given_names(results["row-1"]), ["Alice"])
        self.assertEqual(self.given_names(results["row-2"]), ["Bob"])
        self.assertEqual(results["row-3"]["status"], "succ")
        self.assertEqual(self.given_names(results["row-3"]), [])
        txn.invalidate_recordset()
        self.assertEqual((txn.state, txn.delivery_state), ("done", "sent"))

    def test_json_file_async_with_references_and_criteria(self):
        rows = [
            {"identifier_type": "UIN", "identifier_value": "ZB-UIN-003", "reference_id": "c"},
            {"identifier_type": "NID", "identifier_value": "ZB-NID-001", "reference_id": "a"},
        ]
        content = json.dumps(rows).encode()
        envelope = self.file_envelope(
            content,
            "json",
            rows=2,
            search_criteria={"reg_record_type": "Person", "pagination": {"page_size": 5}},
            locale="eng",
        )
        correlation_id = self.accepted(envelope, content, file_format="json")
        data = self.callback()
        self.assertEqual(data["message"]["correlation_id"], correlation_id)
        results = {item["reference_id"]: item for item in data["message"]["search_response"]}
        self.assertEqual(self.given_names(results["c"]), ["Charlie"])
        self.assertEqual(self.given_names(results["a"]), ["Alice"])
        self.assertEqual(results["a"]["locale"], "eng")
        self.assertEqual(results["a"]["pagination"]["page_size"], 5)

    def test_sync_file_small(self):
        # a BOM, the columns in any order
        content = b"\xef\xbb\xbfidentifier_value,identifier_type\nZB-UIN-004,UIN\n"
        envelope = self.file_envelope(content, rows=1)
        response = self.upload(SYNC, envelope, content)
        body = self.assertSpecResponse(SYNC, response)
        self.assertEqual(response.status_code, 200, body)
        self.assertSignedByUs(body)
        [item] = body["message"]["search_response"]
        self.assertEqual(self.given_names(item), ["Daisy"])
        # more rows than a sync message may hold: refused, pointing to the async path
        self.set_endpoint(dci_max_items=2)
        envelope = self.file_envelope(CSV)
        rejected = self.assertRejected(
            self.upload(SYNC, envelope, CSV), 413, "rjct.total_count.limit_exceeded"
        )
        self.assertIn("/registry/search", rejected["header"]["status_reason_message"])

    def test_identical_resend_gets_the_same_ack(self):
        envelope = self.file_envelope(CSV)
        first = self.accepted(envelope, CSV)
        self.assertEqual(self.accepted(envelope, CSV), first, "a re-send: the first ACK")
        self.assertEqual(len(self.pending_jobs()), 1)
        # the same message_id with another file is another request
        other = CSV.replace(b"ZB-UIN-002", b"ZB-UIN-003")
        changed = self.file_envelope(other, header=envelope["header"])
        response = self.upload(ASYNC, changed, other)
        body = self.assertErrAck(response, 409, "err.request.bad")
        self.assertIn("rjct.message_id.duplicate", body["message"]["error"]["message"])

    def test_generic_part_type_and_default_format(self):
        """application/octet-stream and no fileFormat field: the signed fileFormat decides."""
        envelope = self.file_envelope(CSV)
        self.accepted(
            envelope, CSV, content_type="application/octet-stream", fields={"fileFormat": None}
        )
        self.assertEqual(len(self.callback()["message"]["search_response"]), 3)

    def test_two_file_parts_only(self):
        """What ``curl -F envelope=@envelope.json -F fileName=@ids.csv`` sends: two file
        parts of type application/octet-stream, no FileInfo fields; the name decides."""
        envelope = self.file_envelope(CSV, info={"fileFormat": None})
        files = {
            "envelope": ("envelope.json", json.dumps(envelope), "application/octet-stream"),
            "fileName": ("ids.csv", CSV, "application/octet-stream"),
        }
        response = self.opener.post(
            self.base_url() + self.url(SYNC),
            files=files,
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=60,
        )
        body = self.assertSpecResponse(SYNC, response)
        self.assertEqual(response.status_code, 200, body)
        names = [self.given_names(item) for item in body["message"]["search_response"]]
        self.assertEqual(names, [["Alice"], ["Bob"], []])

    # --- limits ------------------------------------------------------------------------------

    def test_limits(self):
        self.set_endpoint(dci_file_max_bytes=2048, dci_file_max_rows=3)
        big = b"identifier_type,identifier_value\n" + b"UIN,ZB-UIN-001\n" * 200
        response = self.upload(ASYNC, self.file_envelope(big, rows=200), big)
        self.assertErrAck(response, 413, "err.request.bad")
        self.assertIn("larger than 2048", response.json()["errors"][0]["message"])
        four = CSV + b"UIN,ZB-UIN-004\n"
        response = self.upload(ASYNC, self.file_envelope(four, rows=4), four)
        body = self.assertErrAck(response, 413, "err.request.bad")
        self.assertEqual(response.json()["errors"][0]["code"], "rjct.total_count.limit_exceeded")
        self.assertIn("more than 3 rows", body["message"]["error"]["message"])
        rows = json.dumps([{"identifier_type": "UIN", "identifier_value": "x"}] * 4).encode()
        response = self.upload(ASYNC, self.file_envelope(rows, "json", rows=4), rows, "json")
        self.assertErrAck(response, 413, "err.request.bad")
        self.assertNothingWritten()
        self.accepted(self.file_envelope(CSV), CSV)  # at the limit: accepted

    # --- bad files ---------------------------------------------------------------------------

    def refused(self, content, status, reason="err.request.bad", rows=1, file_format="csv", **kw):
        response = self.upload(
            ASYNC, self.file_envelope(content, file_format, rows=rows), content, file_format, **kw
        )
        self.assertNotIn("Traceback", response.text)
        self.assertErrAck(response, status, "err.request.bad")
        self.assertEqual(response.json()["errors"][0]["code"], reason, response.text)
        return response.json()["errors"][0]["message"]

    def test_bad_files(self):
        cases = [
            (b"identifier_type,identifier_value\nUIN,1\n", 415, {"content_type": "image/png"}),
            (b"identifier_type,identifier_value\nUIN,1\n", 415, {"fields": {"fileFormat": "xml"}}),
            (
                b'[{"identifier_type": "UIN", "identifier_value": "1"}]',
                415,
                {"file_format": "json", "content_type": "text/csv"},
            ),
            (b"type,value\nUIN,1\n", 400, {}),
            (b"identifier_type,identifier_value\nUIN\n", 400, {}),
            (b'identifier_type,identifier_value\nUIN,"open\n', 400, {}),
            (b"identifier_type,identifier_value\nUIN,\xff\xfe\n", 400, {}),
            (b"identifier_type,identifier_value\nUIN,1\x00\n", 400, {}),
            (b"identifier_type,identifier_value\n", 400, {}),
            (b"", 400, {}),
            (b"[{]", 400, {"file_format": "json"}),
            (b'{"identifier_type": "UIN"}', 400, {"file_format": "json"}),
            (b'[{"identifier_type": "UIN", "identifier_value": ""}]', 400, {"file_format": "json"}),
            (b'["\\u0000"]', 400, {"file_format": "json"}),
        ]
        for content, status, kwargs in cases:
            with self.subTest(content=content, kwargs=kwargs):
                self.refused(content, status, **kwargs)
        self.assertIn("NUL", self.refused(b"identifier_type,identifier_value\nUIN,1\x00\n", 400))
        # header.total_count must count the rows
        self.refused(CSV, 400, "rjct.total_count.invalid", rows=2)
        self.assertNothingWritten()

    def test_bad_forms(self):
        envelope = self.file_envelope(CSV)
        token = self.token()
        headers = {"Authorization": f"Bearer {token}"}
        url = self.base_url() + self.url(ASYNC)
        no_envelope = self.opener.post(
            url, headers=headers, files={"fileName": ("ids.csv", CSV, "text/csv")}
        )
        self.assertErrAck(no_envelope, 400, "err.request.bad")
        no_file = self.opener.post(
            url, headers=headers, files={"envelope": (None, json.dumps(envelope))}
        )
        self.assertErrAck(no_file, 400, "err.request.bad")
        self.assertIn("fileName", no_file.json()["errors"][0]["message"])
        bad_action = self.upload(ASYNC, envelope, CSV, fields={"action": "subscribe"})
        self.assertErrAck(bad_action, 400, "err.request.bad")
        self.assertEqual(bad_action.json()["errors"][0]["code"], "rjct.action.invalid")
        boundary = "b0undary"
        truncated = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="envelope"\r\n\r\n'
            + json.dumps(envelope)
        ).encode()
        response = self.post_raw(
            ASYNC, truncated, token=token, content_type=f"multipart/form-data; boundary={boundary}"
        )
        self.assertErrAck(response, 400, "err.request.bad")
        self.assertIn("closing boundary", response.json()["errors"][0]["message"])
        no_info = self.envelope(
            "search",
            {"transaction_id": "t-1"},
            total_count=3,
            sender_uri=envelope["header"]["sender_uri"],
        )
        self.assertErrAck(self.upload(ASYNC, no_info, CSV), 400, "err.request.bad")
        self.assertNothingWritten()

    # --- the signature binds the file --------------------------------------------------------

    def test_tampered_file_or_digest(self):
        envelope = self.file_envelope(CSV)
        tampered = CSV.replace(b"ZB-UIN-002", b"ZB-UIN-003")
        response = self.upload(ASYNC, envelope, tampered)
        self.assertErrAck(response, 400, "err.request.bad")
        self.assertIn("digest differs", response.json()["errors"][0]["message"])
        # the digest changed to the tampered file's: the envelope's signature breaks
        forged = json.loads(json.dumps(envelope))
        forged["message"]["file_info"]["fileDigest"] = file_digest(tampered)
        response = self.upload(ASYNC, forged, tampered)
        self.assertHttpError(response, 401, "err.signature.invalid")
        # a digest is required, even where the sender may send unsigned envelopes
        unbound = self.file_envelope(CSV, info={"fileDigest": None})
        self.assertErrAck(self.upload(ASYNC, unbound, CSV), 400, "err.request.bad")
        wrong_size = self.file_envelope(CSV, info={"fileSize": 7})
        self.assertErrAck(self.upload(ASYNC, wrong_size, CSV), 400, "err.request.bad")
        self.assertNothingWritten()

    def test_unauthenticated(self):
        envelope = self.file_envelope(CSV)
        response = self.upload(ASYNC, envelope, CSV, token="")
        self.assertHttpError(response, 401, "err.request.unauthorized")
        response = self.upload(SYNC, envelope, CSV, token="not-a-token")
        self.assertHttpError(response, 401, "err.request.unauthorized")
        self.assertFalse(
            self.env["spp.dci.transaction"].search([("sender_id", "=", self.sender.id)])
        )
        self.assertFalse(self.pending_jobs())

    def test_openapi_declares_the_form(self):
        doc = self.url_open(self.url("/openapi.json")).json()
        for path in (ASYNC, SYNC):
            content = doc["paths"][path]["post"]["requestBody"]["content"]
            self.assertEqual(set(content), {"application/json", "multipart/form-data"})
            form = content["multipart/form-data"]
            self.assertEqual(form["encoding"]["envelope"]["contentType"], "application/json")
        self.assertEqual(
            doc["components"]["schemas"]["FileInfo"]["required"], ["action", "fileName"]
        )
        subscribe = doc["paths"]["/registry/subscribe"]["post"]["requestBody"]["content"]
        self.assertEqual(set(subscribe), {"application/json"})
