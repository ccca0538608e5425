"""OpenAPI of the bulk search by file (services/file_search.py): the form and its envelope.

The spec's ``FileInfo`` is the form (``action``, ``fileName`` the file,
``fileFormat``); our ``envelope`` part carries the signed DCI envelope whose
message is a :data:`FILE_SEARCH_MESSAGE`.
"""

REF = "#/components/schemas/{model}"

FILE_INFO = {
    "type": "object",
    "description": "File info (DCI FileInfo). Used in file upload feature using HTTPS.",
    "required": ["action", "fileName"],
    "properties": {
        "action": {"type": "string", "enum": ["search"]},
        "fileName": {
            "type": "string",
            "format": "binary",
            "description": "The file: CSV with the header row identifier_type,identifier_value "
            "(optional column reference_id), or a JSON list of {identifier_type, "
            "identifier_value, reference_id?} objects. UTF-8, no NUL bytes.",
        },
        "fileFormat": {"type": "string", "enum": ["csv", "json"], "default": "json"},
    },
}
SIGNED_FILE_INFO = {
    "type": "object",
    "description": "FileInfo inside the signed message: the signature covers fileDigest, so it "
    "binds the file.",
    "required": ["fileDigest"],
    "properties": {
        "action": {"type": "string", "enum": ["search"]},
        "fileName": {"type": "string"},
        "fileFormat": {"type": "string", "enum": ["csv", "json"]},
        "fileSize": {"type": "integer", "minimum": 1, "description": "bytes of the file"},
        "fileDigest": {
            "type": "string",
            "pattern": "^SHA-256=[A-Za-z0-9+/]+=*$",
            "description": "SHA-256=<base64 of the SHA-256 digest of the file's bytes>",
        },
    },
}
FILE_SEARCH_MESSAGE = {
    "type": "object",
    "description": "message of the envelope part: each row of the file becomes one "
    "idtype-value search_request item built on search_criteria (reference_id: the row's, "
    "else row-<n>).",
    "required": ["transaction_id", "file_info"],
    "properties": {
        "transaction_id": {"type": "string", "maxLength": 99},
        "file_info": {"$ref": REF.format(model="FileSearchFileInfo")},
        "search_criteria": {
            "type": "object",
            "description": "SearchCriteria without query (query_type is idtype-value): "
            "reg_type, reg_record_type, response_entity, sort, pagination, consent, ...",
        },
        "locale": {"type": "string", "pattern": "^[a-z]{3}$"},
    },
}
FILE_SEARCH_FORM = {
    "allOf": [
        {"$ref": REF.format(model="FileInfo")},
        {
            "type": "object",
            "required": ["envelope"],
            "properties": {
                "envelope": {
                    "type": "object",
                    "description": "The DCI envelope {signature, header, message}, signed as a "
                    "JSON request is; header.action search, header.total_count the rows; "
                    "message: FileSearchMessage.",
                    "required": ["header", "message"],
                    "properties": {
                        "signature": {"type": "string"},
                        "header": {"type": "object"},
                        "message": {"$ref": REF.format(model="FileSearchMessage")},
                    },
                }
            },
        },
    ]
}
FILE_SEARCH_SCHEMAS = {
    "FileInfo": FILE_INFO,
    "FileSearchFileInfo": SIGNED_FILE_INFO,
    "FileSearchMessage": FILE_SEARCH_MESSAGE,
}
FILE_SEARCH_BODY = {
    "schema": FILE_SEARCH_FORM,
    "encoding": {
        "envelope": {"contentType": "application/json"},
        "fileName": {"contentType": "text/csv, application/json, application/octet-stream"},
    },
}
