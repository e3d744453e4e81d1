"""The OpenAI dialect: Chat Completions, Embeddings and Models, with OpenAI's error envelope."""
