// Steps module
