#!/usr/bin/env node
// Entry point buf runs (`node tools/protoc-gen-micro/bin.mjs`, see buf.gen.yaml): plain JavaScript, so a
// fresh clone can generate before anything is compiled. It reads a CodeGeneratorRequest on stdin and
// writes the CodeGeneratorResponse to stdout.
import { runNodeJs } from "@bufbuild/protoplugin";
import { protocGenMicro } from "./plugin.mjs";

runNodeJs(protocGenMicro);
