# bench/ programs
