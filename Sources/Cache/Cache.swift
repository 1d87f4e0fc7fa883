// Cache module
