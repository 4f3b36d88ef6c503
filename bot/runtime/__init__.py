"""The pieces the application plugs into python-telegram-bot: the per-chat update processor, the
measured request, rate limiter and processor, the metrics registry and the API watch."""
