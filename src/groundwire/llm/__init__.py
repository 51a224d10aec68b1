"""LLM answers: OpenAI-compatible providers, circuit breakers, the fallback chain, prompt
templates, cost accounting, budgets and the answer cache."""
