"""The compatibility layers: other face services' HTTP APIs served by facecore's own services.

``adapters.compreface`` (CompreFace's REST API, docs/compreface.md) and ``adapters.deepstack``
(DeepStack's and CodeProject.AI's ``/v1/vision/face`` API, docs/deepstack.md) are thin
translations side by side; what they share lives here: reading an uploaded image
(``adapters.intake``), resolving an API key (``adapters.keys``) and answering errors in a
layer's own shape, from views, middleware and unknown paths alike (``adapters.errors``).
Neither layer imports the other (.importlinter)."""
