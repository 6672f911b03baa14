"""maskgate: keep personal data and secrets out of OpenAI API traffic."""
