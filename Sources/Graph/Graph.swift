// Graph module
