ARG BASE=alpine
