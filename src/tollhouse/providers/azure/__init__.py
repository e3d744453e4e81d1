"""Azure OpenAI: OpenAI's wire format behind deployment URLs, ``api-version`` and Azure auth.

The bodies and answers are OpenAI's, so the translation (canonical ⇄ Chat Completions) and
the stream decoding are the OpenAI-compatible package's; this package holds only what
Azure changes: where requests go (``request``), the prompt-filter chunk that opens its
streams (``stream``) and how it reports errors, content-filter refusals included (``errors``).
"""
