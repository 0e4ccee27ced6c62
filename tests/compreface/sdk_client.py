"""Runs one call of CompreFace's Python SDK and prints its answer as JSON.

Run by tests/compreface/conftest.py with the SDK's own virtualenv (``python -I``, outside the
repository: ``import compreface`` is the SDK; facecore's adapter is ``adapters.compreface``). Standard library
and the SDK only. The argument is a JSON object: ``domain``, ``port``, ``key``, ``service``
(recognition, detection or verification), ``options`` (the CompreFace object's global options),
``call`` (attributes from the service, ``name()`` calls a getter, e.g.
``get_face_collection().add``), ``args`` and ``kwargs``. Prints ``{"result": ...}``, or
``{"exception": name, "message": ...}`` when the SDK raised (its IncorrectFieldException is a
BaseException), or ``{"not_json": text}`` when the SDK could not parse the server's answer.
"""

import json
import sys


def main() -> None:
    spec = json.loads(sys.argv[1])
    from compreface import CompreFace

    compre_face = CompreFace(spec["domain"], spec["port"], spec.get("options", {}))
    init = {
        "recognition": compre_face.init_face_recognition,
        "detection": compre_face.init_face_detection,
        "verification": compre_face.init_face_verification,
    }[spec["service"]]
    target = init(spec["key"])
    for part in spec["call"].split("."):
        target = getattr(target, part[:-2])() if part.endswith("()") else getattr(target, part)
    try:
        result = target(*spec.get("args", []), **spec.get("kwargs", {}))
    except ValueError as exc:  # requests' JSONDecodeError: the server answered something else
        print(json.dumps({"not_json": str(exc)}))
        return
    except BaseException as exc:  # noqa: BLE001 (the SDK's own exception is a BaseException)
        print(json.dumps({"exception": type(exc).__name__, "message": str(exc)}))
        return
    print(json.dumps({"result": result}))


if __name__ == "__main__":
    main()
