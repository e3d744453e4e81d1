"""The OpenAI Responses dialect (``/v1/responses``): stateless, function tools, OpenAI's error envelope."""
