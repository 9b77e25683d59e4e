// The HTTP client module in one include: http::Client and everything a fetch takes and returns.
//
//     #include "httpclient/http.hpp"
//     squall::http::Client client(loop);
//     squall::http::HTTPResponse resp = co_await client.fetch("http://127.0.0.1:8080/");
#pragma once

#include "httpclient/client.hpp"
#include "httpclient/connection.hpp"
#include "httpclient/decompressor.hpp"
#include "httpclient/errors.hpp"
#include "httpclient/headers.hpp"
#include "httpclient/pool.hpp"
#include "httpclient/request.hpp"
#include "httpclient/request_writer.hpp"
#include "httpclient/response.hpp"
#include "httpclient/response_parser.hpp"
#include "httpclient/url.hpp"
