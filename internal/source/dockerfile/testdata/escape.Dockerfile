# escape=`
# check=skip=all

FROM `
  mcr.example.com/windows/servercore:ltsc2022 `
  AS base
RUN echo hi
FROM base
