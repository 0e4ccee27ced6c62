"""The DeepStack-compatible face API (``/v1/vision/face...``), which CodeProject.AI Server also
serves: detect, register, recognize, list, delete, match, as DeepStack's clients (PyPI
deepstack-python, codeproject-ai-api; Home Assistant, Blue Iris, Agent DVR, Double Take,
Node-RED) send them. A thin translation over facecore's services (recognition.sync,
recognition.subjects), beside adapters.compreface; docs/deepstack.md is its guide."""
