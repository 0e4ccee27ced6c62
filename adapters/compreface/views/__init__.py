"""The CompreFace-compatible endpoints: subjects, examples, recognize (recognition service),
detect (detection service), verify (verification service)."""
