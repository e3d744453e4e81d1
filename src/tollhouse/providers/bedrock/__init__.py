"""AWS Bedrock Converse / ConverseStream (SigV4-signed; binary event streams), and embeddings."""
