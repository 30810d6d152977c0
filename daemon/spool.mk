# daemon/spool.* : the durable on-disk spool
