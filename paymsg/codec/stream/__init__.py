"""Large messages: the transaction iterator and the streaming writer."""
