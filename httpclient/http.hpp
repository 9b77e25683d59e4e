// The HTTP client module in one include: http::Client and everything a fetch takes and returns.
//
//     #include "squall/httpclient/http.hpp"
//     squall::http::Client client(loop);
//     squall::http::HTTPResponse resp = co_await client.fetch("http://127.0.0.1:8080/");
#pragma once

#include "squall/httpclient/client.hpp"
#include "squall/httpclient/connection.hpp"
#include "squall/httpclient/decompressor.hpp"
#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/headers.hpp"
#include "squall/httpclient/pool.hpp"
#include "squall/httpclient/request.hpp"
#include "squall/httpclient/request_writer.hpp"
#include "squall/httpclient/response.hpp"
#include "squall/httpclient/response_parser.hpp"
#include "squall/httpclient/url.hpp"
