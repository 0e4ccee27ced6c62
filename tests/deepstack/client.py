"""Runs one call of a DeepStack client library and prints its answer as JSON.

Run by tests/deepstack/conftest.py with the clients' own virtualenv (``python -I``, outside the
repository). Standard library and the clients only. The argument is a JSON object: ``client``
(``deepstack``: deepstack-python's ``DeepstackFace``; ``codeprojectai``: codeproject-ai-api's
``CodeProjectAIFace``, which has no key), ``ip``, ``port``, ``api_key`` (deepstack only),
``min_confidence`` (optional), ``call`` (a method of the face object) and ``args``: strings,
where ``@path`` is the bytes of that file (the clients take image bytes). Prints
``{"result": ...}``, or ``{"exception": name, "message": ...}`` when the client raised.
"""

import json
import sys


def face_object(spec):
    options = {"ip": spec["ip"], "port": spec["port"], "timeout": 120}
    if spec.get("min_confidence") is not None:
        options["min_confidence"] = spec["min_confidence"]
    if spec["client"] == "deepstack":
        from deepstack.core import DeepstackFace

        return DeepstackFace(api_key=spec.get("api_key", ""), **options)
    from codeprojectai.core import CodeProjectAIFace

    return CodeProjectAIFace(**options)


def argument(value):
    if isinstance(value, str) and value.startswith("@"):
        with open(value[1:], "rb") as photo:
            return photo.read()
    return value


def main() -> None:
    spec = json.loads(sys.argv[1])
    target = getattr(face_object(spec), spec["call"])
    try:
        result = target(*[argument(a) for a in spec.get("args", [])])
    except Exception as exc:  # noqa: BLE001 (DeepstackException, CodeProjectAIException, KeyError...)
        print(json.dumps({"exception": type(exc).__name__, "message": str(exc)}))
        return
    print(json.dumps({"result": result}))


if __name__ == "__main__":
    main()
