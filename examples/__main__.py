"""Deploy the functions of the stack's `functions` map."""

import pulumi

import infra

for name, function in infra.from_config().items():
    pulumi.export(name, {"function_name": function.function_name, "arn": function.function_arn})
