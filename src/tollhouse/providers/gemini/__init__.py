"""Google Gemini (generateContent) and Vertex AI (the same format behind other URLs and auth)."""
