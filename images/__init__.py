"""Images: an uploaded photo and its job (status, timings, options), the faces found in it and
its webhook deliveries. The pipeline that processes one image lives here and announces its
results with signals (``images.signals``) that other apps subscribe to."""
