import AsyncHTTPClient
import AWSSigner
public enum _Q {}
