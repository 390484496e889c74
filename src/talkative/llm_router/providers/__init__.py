"""Model providers as plugins: `base` is the interface; every other module here is one provider."""
