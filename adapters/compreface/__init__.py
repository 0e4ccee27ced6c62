"""The CompreFace-compatible API: CompreFace's paths, parameters, JSON shapes and numeric error
codes, served by facecore's own services (recognition.sync, recognition.subjects). A thin
adapter: it parses CompreFace's parameters, calls the services and renders CompreFace's shapes;
docs/compreface.md is its guide."""
