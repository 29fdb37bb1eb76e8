"""The baseline for the GraphQL benchmark: a functions-framework endpoint returning a constant."""

import functions_framework

BODY = {"data": {"me": {"username": "local"}}}


@functions_framework.http
def constant(request):  # functions-framework's signature
    return BODY
