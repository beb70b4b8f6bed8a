// Placeholder translation unit so the proto library links before any .proto file exists.
