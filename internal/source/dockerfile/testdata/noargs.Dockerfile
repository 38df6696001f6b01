# an instruction without arguments
FROM
