# daemon/sandbox.* and privsep: confinement
