"""What is rendered from stored data and sent by the services: the result's text, the content of the
result card, the clinic's case card."""
