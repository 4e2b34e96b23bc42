#!/usr/bin/env python3
"""Reads each message file named on the command line with Python's email package (the reference parser) and
prints, as one JSON array, what a mail client shows of it: subject, from, to, cc, date, the plain-text body and
the attachment names. Used by ReferenceParserTests to compare Commlog's parser field by field."""
import email
import email.policy
import json
import sys


def addresses(message, name):
    header = message[name]
    if header is None:
        return []
    result = []
    try:
        for group in header.groups:
            if group.display_name is not None and not group.addresses:
                result.append(f"{group.display_name}:;")
            for address in group.addresses:
                result.append(address.addr_spec)
    except Exception:
        return [str(header)]
    return result


def text_of(part):
    try:
        return part.get_content()
    except Exception:
        payload = part.get_payload(decode=True) or b""
        return payload.decode(part.get_content_charset() or "utf-8", "replace")


def leaves(part):
    """The parts a mail client lists: leaves of the MIME tree, an attached message as one part."""
    if part.get_content_type() == "message/rfc822" and part is not None and part.get_payload() is not None and part is not ROOT[0]:
        yield part
    elif part.is_multipart():
        for child in part.iter_parts():
            yield from leaves(child)
    else:
        yield part


ROOT = [None]


def describe(path):
    with open(path, "rb") as file:
        message = email.message_from_binary_file(file, policy=email.policy.default)
    ROOT[0] = message
    subject = message["subject"]
    try:
        date = message["date"].datetime.timestamp() if message["date"] is not None and message["date"].datetime else None
    except Exception:
        date = None
    body = message.get_body(preferencelist=("plain",))
    names = []
    for part in leaves(message):
        if part is body:
            continue
        filename = part.get_filename()
        if filename:
            names.append(filename)
    return {
        "file": path,
        "subject": None if subject is None else str(subject),
        "from": addresses(message, "from"),
        "to": addresses(message, "to"),
        "cc": addresses(message, "cc"),
        "date": date,
        "text": None if body is None else text_of(body),
        "attachments": [name for name in names if name],
    }


print(json.dumps([describe(path) for path in sys.argv[1:]]))
