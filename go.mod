module github.com/shiftflow/shiftflow

go 1.26
